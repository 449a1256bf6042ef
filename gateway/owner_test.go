package gateway

import (
	"fmt"
	"net/http"
	"testing"
)

// TestChangeOwnerAnswersAsPleskReadsIt pins what openapi.yaml and the README
// say of PUT /clients/{id}/owner: the answer is the owner as Plesk reads it
// back (REC-1's form), so a client given to a reseller answers owner_id
// without the owner_login that was sent, and one given back to the
// administrator answers owner_login "admin" without owner_id.
func TestChangeOwnerAnswersAsPleskReadsIt(t *testing.T) {
	h := newHarness(t)
	id := h.createClient("owneranswer")
	base := fmt.Sprintf("/clients/%d/owner", id)
	var owner obj
	h.expect(h.do("PUT", base, obj{"owner_login": "res1", "ipv4_addresses": []string{"192.0.2.10"}}), http.StatusOK).json(t, &owner)
	resellerID := 0
	for _, c := range h.sim.Clients() {
		if c.ID == id {
			resellerID = c.OwnerID
		}
	}
	if owner["owner_id"] != float64(resellerID) || owner["owner_login"] != nil || owner["vendor_guid"] == nil {
		t.Fatalf("given to a reseller: %v, want owner_id %d and vendor_guid without owner_login", owner, resellerID)
	}
	var read obj
	h.expect(h.do("GET", base, nil), http.StatusOK).json(t, &read)
	if fmt.Sprint(read) != fmt.Sprint(owner) {
		t.Fatalf("PUT answered %v, GET reads %v: not the same form", owner, read)
	}
	owner = nil
	h.expect(h.do("PUT", base, obj{"owner_login": "admin", "ipv4_addresses": []string{"192.0.2.10"}}), http.StatusOK).json(t, &owner)
	if owner["owner_login"] != "admin" || owner["owner_id"] != nil {
		t.Fatalf("given back to the administrator: %v, want owner_login admin without owner_id", owner)
	}
}

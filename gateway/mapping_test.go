package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
)

// Against a plesksim that answers as recorded servers do (PROTOCOL.md §15
// REC-1): the administrator's clients carry owner_login only, a reseller's
// owner_id only, and the crypt hash and password_type that every gen_info
// carries reach neither an answer nor a log line.
func TestOwnerFieldsAndPasswordHashEveryDialect(t *testing.T) {
	for _, newest := range dialectCases {
		t.Run(newest, func(t *testing.T) {
			h := newHarness(t, withProtocol(newest))
			adminID := h.createClient("ownedbyadmin")
			owners := newest >= "1.6.0.0" // owners, and resellers using the client operator, from 1.6.0.0 (§8)
			resID, resellerID := adminID, 0
			if owners {
				var c obj
				h.as("res1", resellerPass).expect(h.as("res1", resellerPass).do("POST", "/clients", newClientBody("ownedbyres")), http.StatusCreated).json(t, &c)
				resID = int(c["id"].(float64))
				for _, u := range h.sim.Clients() {
					if u.ID == resID {
						resellerID = u.OwnerID
					}
				}
			}
			for _, path := range []string{"", "/owner"} {
				var a, r obj
				h.expect(h.do("GET", fmt.Sprintf("/clients/%d%s", adminID, path), nil), http.StatusOK).json(t, &a)
				h.expect(h.do("GET", fmt.Sprintf("/clients/%d%s", resID, path), nil), http.StatusOK).json(t, &r)
				if !owners {
					if a["owner_login"] != nil || a["owner_id"] != nil || r["owner_login"] != nil || r["owner_id"] != nil {
						t.Errorf("%s: owners before 1.6.0.0: %v %v", path, a, r)
					}
					continue
				}
				if a["owner_login"] != "admin" || a["owner_id"] != nil {
					t.Errorf("admin's client%s: owner_login %v owner_id %v", path, a["owner_login"], a["owner_id"])
				}
				if r["owner_id"] != float64(resellerID) || r["owner_login"] != nil {
					t.Errorf("reseller's client%s: owner_id %v (want %d) owner_login %v", path, r["owner_id"], resellerID, r["owner_login"])
				}
			}
			// The hash and its type: in no answer, in no log line.
			var body strings.Builder
			body.Write(h.expect(h.do("GET", "/clients?include=stat", nil), http.StatusOK).body)
			for _, id := range []int{adminID, resID} {
				body.Write(h.do("GET", fmt.Sprintf("/clients/%d", id), nil).body)
			}
			dumps := 0
			for _, e := range h.logs.All() {
				body.WriteString(e.Message)
				enc := zapcore.NewMapObjectEncoder()
				for _, f := range e.Context {
					f.AddTo(enc)
				}
				body.WriteString(fmt.Sprint(enc.Fields))
				if strings.Contains(fmt.Sprint(enc.Fields["response"]), "<gen_info>") {
					dumps++
				}
			}
			s := strings.NewReplacer("<password>[redacted]</password>", "", "<password_type>[redacted]</password_type>", "").Replace(body.String())
			if strings.Contains(s, "$5$") || strings.Contains(s, "crypt") || strings.Contains(s, "password_type") {
				t.Fatal("a password hash or password_type reached an answer or a log")
			}
			if dumps == 0 {
				t.Fatal("no gen_info answer was logged: the log check proved nothing")
			}
		})
	}
}

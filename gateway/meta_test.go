package gateway

import (
	"net/http"
	"testing"
)

// GET /meta names each supported route's Plesk operation as its first
// operation is sent at the version chosen: the customer operator for the
// modern account operations, the client operator for a legacy-only one
// even on a modern panel, and client for everything on a legacy panel.
func TestMetaNamesEachRoutesPleskOperation(t *testing.T) {
	for newest, want := range map[string]map[string]string{
		"1.6.9.1": {"createClient": "customer/add", "listClientButtons": "client/cform_buttons_list",
			"listClientDomains": "customer/get-domain-list", "deleteClient": "customer/del", "getClientLimits": "client/get"},
		"1.6.0.0": {"createClient": "client/add", "listClientButtons": "client/cform_buttons_list", "deleteClient": "client/del"},
	} {
		t.Run(newest, func(t *testing.T) {
			h := newHarness(t, withProtocol(newest))
			var meta struct {
				Operations []struct {
					OperationID    string `json:"operation_id"`
					PleskOperation string `json:"plesk_operation"`
					Supported      bool   `json:"supported"`
				} `json:"operations"`
			}
			h.expect(h.do("GET", "/meta", nil), http.StatusOK).json(t, &meta)
			seen := 0
			for _, mo := range meta.Operations {
				if w, ok := want[mo.OperationID]; ok {
					seen++
					if !mo.Supported || mo.PleskOperation != w {
						t.Errorf("%s: plesk_operation %q (supported %v), want %q", mo.OperationID, mo.PleskOperation, mo.Supported, w)
					}
				}
			}
			if seen != len(want) {
				t.Errorf("/meta lists %d of the %d routes checked", seen, len(want))
			}
		})
	}
}

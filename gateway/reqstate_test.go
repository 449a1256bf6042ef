package gateway

import (
	"strings"
	"testing"
)

func TestRequestIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := newRequestID()
		if len(id) != 24 || !validRequestID(id) || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("request id %q", id)
		}
		if seen[id] {
			t.Fatalf("request id %q repeated", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "a b", "é", strings.Repeat("x", 129), "x\x7f"} {
		if validRequestID(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

package gateway

import (
	"testing"

	"github.com/pleskgate/pleskgate/translator"
)

func TestDescriptorKeys(t *testing.T) {
	s := &Server{upstreamID: "u1"}
	v1, v2 := translator.MustParseVersion("1.6.0.2"), translator.MustParseVersion("1.6.3.0")
	if got, want := s.descriptorKey("id-a", "limits", v1, 0), "pleskgate:descriptor:u1:id-a:limits:1.6.0.2:server"; got != want {
		t.Fatalf("key %q, want %q", got, want)
	}
	type parts struct {
		identity string
		kind     descriptorKind
		version  translator.Version
		clientID int64
	}
	seen := map[string]parts{}
	for _, p := range []parts{
		{"id-a", "limits", v1, 0},
		{"id-b", "limits", v1, 0},
		{"id-a", "permissions", v1, 0},
		{"id-a", "limits", v2, 0},
		{"id-a", "limits", v1, 7},
		{"id-a", "limits", v1, 8},
	} {
		k := s.descriptorKey(p.identity, p.kind, p.version, p.clientID)
		if other, dup := seen[k]; dup {
			t.Fatalf("%+v and %+v share key %q", p, other, k)
		}
		seen[k] = p
	}
}

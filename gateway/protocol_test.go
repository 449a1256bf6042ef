package gateway

import (
	"strings"
	"testing"
)

// FuzzParseProtocolSetting: PLESKGATE_PROTOCOL is auto or a list of full
// versions; anything else is an error, never a panic or a half-parsed list.
func FuzzParseProtocolSetting(f *testing.F) {
	for _, s := range []string{"", "auto", "AUTO", " auto ", "1.6.9.1", "1.6.9.1,1.6.0.2", " 1.6.9.1 , 1.4.2.0 ", "1.6", "1.6.9.1,", ",", "1..9.1", "1.6.9.1.1", "+1.6.9.1", "１.6.9.1", "4294967296.0.0.0", "auto,1.6.9.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProtocolSetting(s)
		if err != nil {
			if p != nil {
				t.Fatalf("%q: protocol with error %v", s, err)
			}
			if !strings.HasPrefix(err.Error(), "PLESKGATE_PROTOCOL") {
				t.Fatalf("%q: error %q does not name the setting", s, err)
			}
			return
		}
		trimmed := strings.TrimSpace(s)
		auto := trimmed == "" || strings.EqualFold(trimmed, "auto")
		if (p.Mode() == "auto") != auto {
			t.Fatalf("%q: mode %s", s, p.Mode())
		}
		if auto {
			if p.Known() != nil {
				t.Fatalf("%q: auto with versions %v", s, p.Known())
			}
			return
		}
		parts := strings.Split(s, ",")
		if len(p.Known()) != len(parts) {
			t.Fatalf("%q: %d versions from %d parts", s, len(p.Known()), len(parts))
		}
		for i, v := range p.Known() {
			if v.Parts() != 4 || v.String() != strings.TrimSpace(parts[i]) && !sameNumbers(v.String(), strings.TrimSpace(parts[i])) {
				t.Fatalf("%q: version %d is %q", s, i, v)
			}
		}
	})
}

package gateway

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/translator"
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

// TestVersionForAnyListedOrder: whatever order the versions are listed in,
// versionFor picks the newest that has every operation, and Known keeps the
// listed order (error messages name the versions as listed).
func TestVersionForAnyListedOrder(t *testing.T) {
	for _, setting := range []string{"1.6.0.2,1.6.9.1,1.5.2.1", "1.6.9.1,1.5.2.1,1.6.0.2", "1.5.2.1,1.6.0.2,1.6.9.1"} {
		p, err := ParseProtocolSetting(setting)
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(Config{Upstream: upstream.Config{BaseURL: "http://plesk.invalid:8443"}, Protocol: p, Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			ops  []translator.Operation
			want string
		}{
			{[]translator.Operation{translator.OpGet}, "1.6.9.1"},
			{[]translator.Operation{translator.OpGetLimits}, "1.6.0.2"},
			{[]translator.Operation{translator.OpGet, translator.OpGetLimits}, "1.6.0.2"},
			{[]translator.Operation{translator.OpGetLimitDescriptor}, "1.6.0.2"},
		} {
			v, err := s.versionFor(context.Background(), c.ops...)
			if err != nil || v.String() != c.want {
				t.Errorf("%s: versionFor(%v) = %s, %v; want %s", setting, c.ops, v, err, c.want)
			}
		}
		var listed []string
		for _, v := range p.Known() {
			listed = append(listed, v.String())
		}
		if strings.Join(listed, ",") != setting {
			t.Errorf("Known() = %v, want the listed order %s", listed, setting)
		}
	}
}

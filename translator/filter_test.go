package translator

import (
	"errors"
	"strings"
	"testing"
)

func TestFilter(t *testing.T) {
	if !(Filter{}).IsBlank() || !(Filter{Kind: FilterLogin}).IsBlank() || ByID(1).IsBlank() {
		t.Error("IsBlank")
	}
	for _, c := range []struct {
		v    string
		f    Filter
		want string // encoded <filter>, or "unsupported" / "invalid"
	}{
		{"1.4.0.0", Filter{}, "<filter></filter>"},
		{"1.4.0.0", ByID(1, 2), "<filter><id>1</id><id>2</id></filter>"},
		{"1.3.5.0", ByID(1), "<filter><id>1</id></filter>"},
		{"1.3.5.0", ByLogin("a"), "unsupported"},
		{"1.4.0.0", ByLogin("a&b"), "<filter><login>a&amp;b</login></filter>"},
		{"1.5.2.0", ByOwnerLogin("admin"), "unsupported"},
		{"1.6.0.0", ByOwnerLogin("admin"), "<filter><owner-login>admin</owner-login></filter>"},
		{"1.6.0.0", ByOwnerID(3), "<filter><owner-id>3</owner-id></filter>"},
		{"1.6.0.0", ByGUID("g"), "unsupported"},
		{"1.6.0.2", ByExternalID("e"), "unsupported"},
		{"1.6.3.0", ByGUID("g"), "<filter><guid>g</guid></filter>"},
		{"1.6.3.0", ByExternalID("e"), "<filter><external-id>e</external-id></filter>"},
		{"1.6.9.1", Filter{Kind: FilterID, Values: []string{" 007 "}}, "<filter><id>7</id></filter>"},
		{"1.6.9.1", ByID(0), "invalid"},
		{"1.6.9.1", ByID(-4), "invalid"},
		{"1.6.9.1", ByOwnerID(0), "invalid"},
		{"1.6.9.1", Filter{Kind: FilterID, Values: []string{"abc"}}, "invalid"},
		{"1.6.9.1", Filter{Kind: FilterID, Values: []string{"99999999999999999999999"}}, "invalid"},
		{"1.6.9.1", ByLogin(""), "invalid"},
		{"1.6.9.1", ByLogin("a\x00b"), "invalid"},
		{"1.6.9.1", Filter{Kind: "name", Values: []string{"x"}}, "invalid"},
	} {
		got, err := EncodeRequest(MustParseVersion(c.v), &DelRequest{Filter: c.f})
		switch c.want {
		case "unsupported":
			var ue *UnsupportedError
			if !errors.As(err, &ue) || !errors.Is(err, ErrUnsupported) || !strings.Contains(ue.Feature, string(c.f.Kind)) {
				t.Errorf("%s %+v: want UnsupportedError, got %v", c.v, c.f, err)
			}
		case "invalid":
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("%s %+v: want ErrInvalidInput, got %v", c.v, c.f, err)
			}
		default:
			if err != nil || !strings.Contains(string(got), "<del>"+c.want+"</del>") {
				t.Errorf("%s %+v: got %s %v, want %s", c.v, c.f, got, err, c.want)
			}
		}
		if err != nil && got != nil {
			t.Errorf("%s %+v: packet returned with error", c.v, c.f)
		}
	}
	// Descriptors take id or login only (§4.3).
	_, err := EncodeRequest(MustParseVersion("1.6.0.0"), &LimitDescriptorRequest{Filter: ByOwnerLogin("admin")})
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("descriptor by owner-login: %v", err)
	}
}

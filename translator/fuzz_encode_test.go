package translator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

// encGen draws request fields from fuzz input: each choice consumes one
// byte; exhausted input reads as zeros.
type encGen struct {
	data      []byte
	good, bad []string // text build accepts; text it refuses (blank, not XML)
	drawn     []string // every text drawn for the requests kept
}

func (g *encGen) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	c := g.data[0]
	g.data = g.data[1:]
	return c
}

func (g *encGen) n(k int) int { return int(g.byte()) % k }

// str draws mostly acceptable text, so most packets get past build.
func (g *encGen) str() string {
	s := g.good[g.n(len(g.good))]
	if g.n(16) == 0 {
		s = g.bad[g.n(len(g.bad))]
	}
	g.drawn = append(g.drawn, s)
	return s
}

func (g *encGen) optStr() *string {
	if g.n(3) == 0 {
		return nil
	}
	s := g.str()
	return &s
}

// rareStr is optStr for fields many versions lack, so they do not sink
// most packets.
func (g *encGen) rareStr() *string {
	if g.n(4) != 0 {
		return nil
	}
	return g.optStr()
}

func (g *encGen) int() int {
	switch g.n(16) {
	case 0:
		return 0
	case 1:
		return -int(g.byte()) - 1
	case 2:
		return 1<<31 + int(g.byte())
	default:
		return int(g.byte()) + 1
	}
}

func (g *encGen) optInt() *int {
	if g.n(3) == 0 {
		return nil
	}
	n := g.int()
	return &n
}

func (g *encGen) int64() int64 {
	var n int64
	for range 8 {
		n = n<<8 | int64(g.byte())
	}
	if g.n(2) == 0 {
		return n % 1000
	}
	return n
}

func (g *encGen) strs(max int) []string {
	var out []string
	for range g.n(max + 1) {
		out = append(out, g.str())
	}
	return out
}

var fuzzFilterKinds = []FilterKind{"", FilterID, FilterLogin, FilterGUID, FilterExternalID, FilterOwnerID, FilterOwnerLogin}

func (g *encGen) filter() Filter {
	f := Filter{Kind: fuzzFilterKinds[g.n(len(fuzzFilterKinds))]}
	if g.n(32) == 0 {
		f.Kind = "bogus"
	}
	numeric := []string{"1", "42", " 7 ", "007", "2147483648", "1", "0", "-3", "x", "99999999999999999999"}
	for range g.n(4) {
		if (f.Kind == FilterID || f.Kind == FilterOwnerID) && g.n(8) != 0 {
			f.Values = append(f.Values, numeric[g.n(len(numeric))])
		} else {
			f.Values = append(f.Values, g.str())
		}
	}
	return f
}

func (g *encGen) status() *Status {
	if g.n(2) == 0 {
		return nil
	}
	s := Status(g.int())
	return &s
}

// legacyName draws a limit or permission name: often a valid XML name (so
// the named format is exercised), sometimes anything from the pool.
func (g *encGen) legacyName() string {
	names := []string{"max_dom", "disk_space", "create_domains", "_x", "a-b.c", "é9", "limit", "permission", "resource-policy", "xmlns", "9a", "a:b"}
	if g.n(2) == 0 {
		return names[g.n(len(names))]
	}
	return g.str()
}

// requestFor draws a request, redrawing (mostly) until v supports its
// operation, so that packets get past the version check often enough.
func (g *encGen) requestFor(v Version) Request {
	mark := len(g.drawn)
	r := g.request()
	for try := 0; try < 4 && r != nil && !v.Supports(r.Op().Name()) && g.n(8) != 0; try++ {
		g.drawn = g.drawn[:mark]
		r = g.request()
	}
	return r
}

func (g *encGen) request() Request {
	switch g.n(13) {
	case 0:
		return &GetRequest{Filter: g.filter(), GenInfo: g.n(2) == 0, Stat: g.n(2) == 0,
			Permissions: g.n(3) == 0, Limits: g.n(3) == 0, IPPool: g.n(3) == 0}
	case 1:
		c := NewClient{Company: g.optStr(), Name: g.str(), Login: g.str(), Password: g.str(), Status: g.status(),
			Phone: g.optStr(), Fax: g.optStr(), Email: g.optStr(), Address: g.optStr(), City: g.optStr(),
			State: g.optStr(), PostalCode: g.optStr(), Country: g.optStr(), Locale: g.optStr(),
			ExternalID: g.rareStr(), Description: g.rareStr()}
		switch g.n(8) {
		case 1:
			c.OwnerID = g.optInt()
		case 2:
			c.OwnerLogin = g.optStr()
		case 3:
			c.OwnerExternalID = g.optStr()
		case 4:
			c.OwnerID, c.OwnerLogin = g.optInt(), g.optStr()
		}
		switch g.n(8) {
		case 1:
			c.TemplateID = g.optInt()
		case 2:
			c.TemplateName = g.optStr()
		case 3:
			c.TemplateID, c.TemplateName = g.optInt(), g.optStr()
		}
		return &AddRequest{Client: c}
	case 2:
		r := &SetRequest{Filter: g.filter()}
		if g.n(3) != 0 {
			r.Client = &ClientUpdate{Company: g.optStr(), Name: g.optStr(), Login: g.optStr(), Password: g.optStr(),
				Status: g.status(), Phone: g.optStr(), Fax: g.optStr(), Email: g.optStr(), Address: g.optStr(),
				City: g.optStr(), State: g.optStr(), PostalCode: g.optStr(), Country: g.optStr(), Locale: g.optStr(),
				RegenerateGUID: g.n(4) == 0, ExternalID: g.rareStr(), Description: g.rareStr()}
		}
		if g.n(2) == 0 {
			overuse := []string{"", "", "block", "notify", "normal", "bad"}
			r.Limits = &Limits{Overuse: overuse[g.n(len(overuse))]}
			for range g.n(4) {
				r.Limits.Values = append(r.Limits.Values, Limit{Name: g.legacyName(), Value: g.int64()})
			}
		}
		for range g.n(4) {
			r.Permissions = append(r.Permissions, Permission{Name: g.legacyName(), Value: g.n(2) == 0})
		}
		return r
	case 3:
		return &DelRequest{Filter: g.filter()}
	case 4:
		return &IPPoolAddRequest{ClientID: g.int(), IPs: g.strs(3)}
	case 5:
		return &IPPoolDelRequest{ClientID: g.int(), IPs: g.strs(3)}
	case 6:
		return &ButtonsListRequest{Filter: g.filter()}
	case 7:
		return &LimitDescriptorRequest{Filter: g.filter()}
	case 8:
		return &PermissionDescriptorRequest{Filter: g.filter()}
	case 9:
		return &ConvertToResellerRequest{Filter: g.filter(), ResellerPlanName: g.optStr()}
	case 10:
		return &ChangeOwnerRequest{Filter: g.filter(), NewOwnerLogin: g.str(), IPv4: g.strs(2), IPv6: g.strs(2), PlanName: g.optStr()}
	case 11:
		return &DomainListRequest{Filter: g.filter()}
	}
	return nil // a nil request is an input error
}

// version draws a known version, a partial one or, rarely, the zero Version.
func (g *encGen) version() Version {
	switch g.n(8) {
	case 0:
		partial := []string{"1.6", "1.6.5", "1.4", "1", "2", "1.5.0", "1.6.3", "1.6.10.0"}
		return MustParseVersion(partial[g.n(len(partial))])
	case 1:
		if g.n(8) == 0 {
			return Version{}
		}
	}
	return KnownVersions[g.n(len(KnownVersions))]
}

// fuzzGoodText and fuzzBadText are the text a generated request draws from,
// besides the two fuzzed strings: text needing escaping, names, numbers; and
// text build refuses (blank, not XML).
var (
	fuzzGoodText = []string{
		"plain", "jdoe", `<>&'"`, "a\r\nb\tc", "Müller 😀", "]]>", "&amp;", "\u2028", "\uFFFD", "192.0.2.1", "12", "max_dom", " x ",
	}
	fuzzBadText = []string{"", " ", "\t\n", "\x00", "\x1f", "\xff\xfe", "\uFFFE", "\xed\xa0\x80"}
)

// FuzzEncodeRequest generates packets of one to three requests of every
// type, with field values from fuzzGoodText, fuzzBadText and the two fuzzed
// strings, in a known (or partial) version, and checks what EncodeRequest
// promises: an error is an *UnsupportedError or wraps ErrInvalidInput and
// comes without a packet; a packet is the same bytes when encoded again, is
// well-formed XML shaped packet > the operator of v > one element per
// request (its Op's element), and carries every text the requests hold
// unchanged (as character data, or as an element name for the legacy
// named limits and permissions).
func FuzzEncodeRequest(f *testing.F) {
	f.Add([]byte{}, "a", "b")
	f.Add([]byte{0, 0, 0}, "jdoe", "secret")
	for i := range 24 {
		seed := make([]byte, 64)
		for j := range seed {
			seed[j] = byte((i*131 + j*17 + i*j) % 251)
		}
		f.Add(seed, strconv.Itoa(i), `<&'"`+"\r\n")
	}
	f.Add([]byte{3, 1, 2, 0, 1, 2, 3, 1}, "Smith & Sons <\"Ltd\"> 'x'", "\xff")
	f.Fuzz(func(t *testing.T, choices []byte, s1, s2 string) {
		g := &encGen{data: choices, good: append([]string{s1, s2, s1, s2}, fuzzGoodText...), bad: append([]string{s1, s2}, fuzzBadText...)}
		v := g.version()
		reqs := make([]Request, 1+g.n(4)/2+g.n(2)) // one to three, mostly one or two
		for i := range reqs {
			reqs[i] = g.requestFor(v)
		}
		packet, err := EncodeRequest(v, reqs...)
		if err != nil {
			var ue *UnsupportedError
			if packet != nil || !errors.As(err, &ue) && !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("EncodeRequest = %q, %v (%T)", packet, err, err)
			}
			return
		}
		again, err := EncodeRequest(v, reqs...)
		if err != nil || !bytes.Equal(again, packet) {
			t.Fatalf("encoded again: %q, %v; first %q", again, err, packet)
		}
		elements, texts := packetContent(t, packet)
		want := []string{"packet", reqs[0].Op().Operator(v)}
		for _, r := range reqs {
			want = append(want, r.Op().Element())
		}
		if strings.Join(elements, " ") != strings.Join(want, " ") {
			t.Fatalf("packet skeleton %v, want %v\n%s", elements, want, packet)
		}
		for _, s := range g.drawn {
			if s != "" && !texts[s] {
				t.Fatalf("text %q is not in the packet\n%s", s, packet)
			}
		}
	})
}

// packetContent returns the names of the elements at depth 1 to 3 of a
// packet, in order, and every character data and element name in it.
func packetContent(t *testing.T, packet []byte) (elements []string, texts map[string]bool) {
	t.Helper()
	texts = map[string]bool{}
	d := xml.NewDecoder(bytes.NewReader(packet))
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("packet is not well-formed XML: %v\n%s", err, packet)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth++; depth <= 3 {
				elements = append(elements, tok.Name.Local)
			}
			texts[tok.Name.Local] = true
		case xml.EndElement:
			depth--
		case xml.CharData:
			texts[string(tok)] = true
		}
	}
	return elements, texts
}

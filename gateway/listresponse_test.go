package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/translator"
)

// listResultsForTest are clients exercising every field of api.Client and
// what encoding/json escapes.
func listResultsForTest() []translator.GetResult {
	owner := 7
	webapps := uint64(3)
	ok := func(id int) translator.Result { return translator.Result{Status: "ok", ID: id} }
	return []translator.GetResult{
		{Result: ok(1), Client: &translator.ClientInfo{Login: "a", Name: "A"}},
		{Result: ok(2), Client: &translator.ClientInfo{
			CreatedDate: "2026-11-29", Company: `<b>&"Co"</b>`, Name: "Zoë \u2028 \u2029 \x01 ✓", Login: "b<script>",
			Status: 16, Phone: "+1", Fax: "2", Email: "b@example.com", Address: "Street 1\nline 2", City: "Zürich",
			State: "ZH", PostalCode: "8000", Country: "CH", Locale: "de-CH", GUID: "g-2", OwnerID: &owner,
			OwnerLogin: "res1", VendorGUID: "v-2", ExternalID: "ext\t2", Description: `back\slash "quoted" \u003c&amp;`,
		},
			Stat:        &translator.Stat{ActiveDomains: 1, DiskSpace: 1 << 40, Webapps: &webapps, Traffic: 5},
			Limits:      &translator.Limits{Values: []translator.Limit{{Name: "max_dom", Value: -1}, {Name: "disk_space", Value: 1 << 30}}, Overuse: "block"},
			Permissions: []translator.Permission{{Name: "create_domains", Value: true}, {Name: "manage_dns", Value: false}},
			IPPool:      []translator.PoolIP{{Address: "10.0.0.1", Type: "shared"}, {Address: "::1"}},
		},
		{Result: ok(3), Client: &translator.ClientInfo{Login: "c", CreatedDate: "not a date"}, Stat: &translator.Stat{}},
		{Result: ok(4)}, // no general info at all
	}
}

// sentGenerated records what a generated response sends: its body through
// htmlUnescaper, as handle installs it.
func sentGenerated(t *testing.T, visit func(http.ResponseWriter) error) (sent, raw *httptest.ResponseRecorder) {
	t.Helper()
	sent, raw = httptest.NewRecorder(), httptest.NewRecorder()
	var u htmlUnescaper
	u.reset(sent)
	if err := visit(&u); err != nil {
		t.Fatal(err)
	}
	if err := visit(raw); err != nil {
		t.Fatal(err)
	}
	return sent, raw
}

// sameJSON fails unless a and b decode to the same value.
func sameJSON(t *testing.T, a, b []byte) {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if ja, jb := mustMarshal(t, va), mustMarshal(t, vb); !bytes.Equal(ja, jb) {
		t.Fatalf("different values:\n%s\n%s", a, b)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestListResponseMatchesGenerated: a streamed page is, header for header
// and byte for byte, what the generated ListClients200JSONResponse sends
// for the same page built the former way (api.ClientList of toAPIClient):
// its encoding with the HTML escapes undone (htmlUnescaper), the same value.
func TestListResponseMatchesGenerated(t *testing.T) {
	all := listResultsForTest()
	cursor := encodeCursor(listCursor{snapshot: strings.Repeat("ab", 16), after: 42})
	link := `</clients?cursor=` + cursor + `&include=stat&limit=2>; rel="next"`
	for _, inc := range []include{{}, {Stat: true}, {Limits: true, Permissions: true, IPPool: true}, {true, true, true, true}} {
		for _, recs := range [][]translator.GetResult{nil, all[:1], all} {
			for _, last := range []bool{true, false} {
				want := api.ListClients200JSONResponse{Body: api.ClientList{Items: make([]api.Client, 0, len(recs))}}
				got := listResponse{recs: recs, inc: inc}
				for i := range recs {
					want.Body.Items = append(want.Body.Items, toAPIClient(recordOf(&recs[i], inc, translator.Version{})))
				}
				if !last {
					c, l := cursor, link
					want.Body.NextCursor, want.Headers.Link = &c, &l
					got.next, got.link = &c, &l
				}
				wr, raw := sentGenerated(t, want.VisitListClientsResponse)
				gr := httptest.NewRecorder()
				if err := got.VisitListClientsResponse(gr); err != nil {
					t.Fatal(err)
				}
				if gr.Code != wr.Code || !equalHeaders(gr.Header(), wr.Header()) {
					t.Fatalf("status/headers %d %v, generated %d %v", gr.Code, gr.Header(), wr.Code, wr.Header())
				}
				if !bytes.Equal(gr.Body.Bytes(), wr.Body.Bytes()) {
					t.Fatalf("include %+v, %d clients, last %v:\nstreamed  %s\ngenerated %s", inc, len(recs), last, gr.Body, wr.Body)
				}
				sameJSON(t, gr.Body.Bytes(), raw.Body.Bytes())
				if len(recs) > 1 && (!bytes.Contains(gr.Body.Bytes(), []byte(`"login":"b<script>"`)) || !bytes.Contains(gr.Body.Bytes(), []byte(`\\u003c&amp;`))) {
					t.Fatalf("&<> escaped, or a literal \\u003c lost: %s", gr.Body)
				}
			}
		}
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b[k], "\x00") {
			return false
		}
	}
	return true
}

// TestListResponseLargePage: a page larger than the write buffer comes out
// whole and equal to the generated encoding.
func TestListResponseLargePage(t *testing.T) {
	base := listResultsForTest()[1]
	recs := make([]translator.GetResult, 1000)
	want := api.ListClients200JSONResponse{}
	for i := range recs {
		recs[i] = base
		recs[i].Result.ID = i + 1
		want.Body.Items = append(want.Body.Items, toAPIClient(recordOf(&recs[i], include{Stat: true}, translator.Version{})))
	}
	wr, _ := sentGenerated(t, want.VisitListClientsResponse)
	gr := httptest.NewRecorder()
	if err := (listResponse{recs: recs, inc: include{Stat: true}}).VisitListClientsResponse(gr); err != nil {
		t.Fatal(err)
	}
	if gr.Body.Len() < 4*listWriteBuffer || !bytes.Equal(gr.Body.Bytes(), wr.Body.Bytes()) {
		t.Fatalf("streamed %d bytes, generated %d, equal %v", gr.Body.Len(), wr.Body.Len(), bytes.Equal(gr.Body.Bytes(), wr.Body.Bytes()))
	}
}

// failPages is a transport to the simulator that, while armed, breaks the
// answers to packets reading general info (a page's records), but not the
// ids-only get.
type failPages struct {
	next http.RoundTripper
	mode atomic.Int32 // 0 pass, 1 HTTP 500, 2 answer cut short
}

func (f *failPages) RoundTrip(r *http.Request) (*http.Response, error) {
	pkt, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(pkt))
	mode := f.mode.Load()
	if mode == 0 || !bytes.Contains(pkt, []byte("gen_info")) {
		return f.next.RoundTrip(r)
	}
	if mode == 1 {
		return &http.Response{StatusCode: 500, Body: io.NopCloser(strings.NewReader("boom")), Header: http.Header{}, Request: r}, nil
	}
	resp, err := f.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body[:len(body)/2]), errReader{io.ErrUnexpectedEOF}))
	return resp, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestListPageUpstreamFailure: when a page's records cannot be read, on a
// first or a later page, the answer is the problem for it, never a 200
// (streaming starts only once the whole page is decoded).
func TestListPageUpstreamFailure(t *testing.T) {
	h := newHarness(t)
	seedClients(t, h, 5, "pf", "")
	fp := &failPages{next: http.DefaultTransport}
	f := h.beside(Config{
		Logger: zap.NewNop(), Registry: prometheus.NewRegistry(), DescriptorTTL: time.Minute,
		Upstream: upstream.Config{BaseURL: h.simSrv.URL, Timeout: 5 * time.Second, RetryMax: -1,
			Transport: fp},
	})
	first := f.page("/clients?limit=2")
	if first.next == "" || len(first.ids) != 2 {
		t.Fatalf("first page %+v", first)
	}
	for _, mode := range []int32{1, 2} {
		fp.mode.Store(mode)
		for _, path := range []string{"/clients?limit=2", first.next} {
			r := f.do("GET", path, nil)
			if r.StatusCode != http.StatusBadGateway {
				t.Fatalf("mode %d, %s: status %d, want 502; body %s", mode, path, r.StatusCode, r.body)
			}
			if p := r.problem(t); p.Status != http.StatusBadGateway {
				t.Fatalf("problem %+v", p)
			}
			if r.Header.Get("Link") != "" {
				t.Fatalf("a failed page carries Link %q", r.Header.Get("Link"))
			}
		}
	}
	fp.mode.Store(0)
	if again := f.page(first.next); len(again.ids) != 2 {
		t.Fatalf("after the failures: %+v", again)
	}
}

// TestListPageBytesEqualSingleReads: every item of a listed page (written
// from the upstream answer, client by client) is byte for byte the body
// GET /clients/{id} answers for that client with the same include, and the
// page is exactly {"items":[…],"next_cursor":…} and a newline.
func TestListPageBytesEqualSingleReads(t *testing.T) {
	h := newHarness(t)
	seedClients(t, h, 7, "by<&>", "")
	h.expect(h.do("PATCH", "/clients/"+strconv.Itoa(h.sim.Clients()[0].ID), obj{
		"company": "A & B <Co> \u2028", "city": "Zürich", "email": "x@example.com", "description": `"q" \ back`,
	}, "application/merge-patch+json"), http.StatusOK)
	for _, q := range []string{"limit=3", "limit=3&include=stat", "limit=1000"} {
		path := "/clients?" + q
		for path != "" {
			r := h.expect(h.do("GET", path, nil), http.StatusOK)
			var list struct {
				Items      []json.RawMessage `json:"items"`
				NextCursor *string           `json:"next_cursor"`
			}
			r.json(t, &list)
			var want bytes.Buffer
			want.WriteString(`{"items":[`)
			for i, it := range list.Items {
				var c struct{ ID int }
				if err := json.Unmarshal(it, &c); err != nil {
					t.Fatal(err)
				}
				one := "/clients/" + strconv.Itoa(c.ID)
				if strings.Contains(q, "include=stat") {
					one += "?include=stat"
				}
				single := h.expect(h.do("GET", one, nil), http.StatusOK)
				if i > 0 {
					want.WriteByte(',')
				}
				want.Write(bytes.TrimSuffix(single.body, []byte("\n")))
			}
			want.WriteByte(']')
			path = ""
			if list.NextCursor != nil {
				b, _ := json.Marshal(*list.NextCursor)
				want.WriteString(`,"next_cursor":`)
				want.Write(b)
				path = strings.TrimSuffix(strings.TrimPrefix(strings.Split(r.Header.Get("Link"), ";")[0], "<"), ">")
			}
			want.WriteString("}\n")
			if !bytes.Equal(r.body, want.Bytes()) {
				t.Fatalf("%s:\nlisted %s\nsingle %s", q, r.body, want.Bytes())
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
		}
	}
}

// TestSortedResults: the ok results of an answer not in id order are
// sorted, each client with its own values.
func TestSortedResults(t *testing.T) {
	body := `<packet><customer><get>` +
		`<result><status>ok</status><id>9</id><data><gen_info><login>nine</login><owner-id>1</owner-id></gen_info></data></result>` +
		`<result><status>error</status><errcode>1013</errcode><errtext>gone</errtext></result>` +
		`<result><status>ok</status><id>3</id><data><gen_info><login>three</login><owner-id>2</owner-id></gen_info></data></result>` +
		`</get></customer></packet>`
	var recs []translator.GetResult
	err := translator.EachGetResult(translator.MustParseVersion("1.6.9.1"), []byte(body), &translator.GetRequest{}, func(r translator.GetResult) error {
		if r.Result.OK() {
			recs = append(recs, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	recs = sortedResults(recs)
	if len(recs) != 2 || recs[0].Result.ID != 3 || recs[1].Result.ID != 9 ||
		recs[0].Client.Login != "three" || recs[1].Client.Login != "nine" || *recs[0].Client.OwnerID != 2 || *recs[1].Client.OwnerID != 1 {
		t.Fatalf("%+v", recs)
	}
}

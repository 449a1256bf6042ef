package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

// Helpers shared by the reliability_*_test.go and fuzz_*_test.go files. Every
// name starts with rel so it cannot collide with the other test files of the
// package.

// relSimTransport serves upstream requests from a plesksim in process, with no
// sockets and no goroutines: fuzzing runs thousands of requests a second.
type relSimTransport struct{ sim *plesksim.Server }

func (rt relSimTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	// A real server canonicalises header names; the gateway sets Plesk's
	// underscore names raw, so do what the wire would.
	in := r.Clone(r.Context())
	in.Header = http.Header{}
	for k, vs := range r.Header {
		in.Header[textproto.CanonicalMIMEHeaderKey(k)] = vs
	}
	in.RequestURI = r.URL.RequestURI()
	rec := httptest.NewRecorder()
	rt.sim.ServeHTTP(rec, in)
	if r.Body != nil {
		_ = r.Body.Close()
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// relPanicCore is a zap core that keeps nothing but counts panic reports, so a
// long fuzzing run does not hoard log entries.
type relPanicCore struct {
	zapcore.LevelEnabler
	panics *atomic.Int64
	last   *atomic.Value
}

func (c relPanicCore) With([]zapcore.Field) zapcore.Core { return c }
func (c relPanicCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}
func (c relPanicCore) Write(e zapcore.Entry, fs []zapcore.Field) error {
	if e.Level >= zapcore.ErrorLevel && strings.Contains(e.Message, "panic") {
		c.panics.Add(1)
		enc := zapcore.NewMapObjectEncoder()
		for _, f := range fs {
			f.AddTo(enc)
		}
		c.last.Store(fmt.Sprint(enc.Fields))
	}
	return nil
}
func (c relPanicCore) Sync() error { return nil }

// relEnv is one gateway in front of one in-process simulator at one protocol
// version. Fuzz inputs run one after another in a worker process, so an env
// is reused; relReset restores the base clients after each input.
type relEnv struct {
	version string
	sim     *plesksim.Server
	gw      *Server
	h       http.Handler
	panics  atomic.Int64
	last    atomic.Value
	base    []relBaseClient
}

// relBaseClient is a client every input starts with.
type relBaseClient struct {
	Login, Name, Company, Email, City, Country, Owner, ExternalID string
}

var relBase = []relBaseClient{
	{Login: "alpha", Name: "Alpha A", Company: "A & <Co>", Email: "a@example.com", City: "Toronto", Country: "CA", ExternalID: "ext-a"},
	{Login: "beta", Name: "Beta B", Email: "b@example.com", City: "Berlin", Country: "DE", ExternalID: "ext-b"},
	{Login: "gamma", Name: "Gamma G", Company: "Res Co", Email: "g@example.com", Owner: "res1", ExternalID: "ext-g"},
	{Login: "delta", Name: "Delta D", Owner: "res1"},
}

const (
	relAdminPass = "fz-admin-pass"
	relResPass   = "fz-res1-pass"
)

var (
	relEnvsMu sync.Mutex
	relEnvs   = map[string]*relEnv{}
)

// relVersions are the simulator's newest versions the fuzz targets rotate through.
var relVersions = []string{"1.6.9.1", "1.6.0.0", "1.4.2.0", "1.6.3.0"}

func relGetEnv(t testing.TB, version string) *relEnv {
	relEnvsMu.Lock()
	defer relEnvsMu.Unlock()
	if e := relEnvs[version]; e != nil {
		return e
	}
	sim, err := plesksim.New(plesksim.Config{
		Protocol: version, AdminLogin: "admin", AdminPassword: relAdminPass,
		Resellers: []plesksim.Account{{Login: "res1", Password: relResPass}, {Login: "res2", Password: "fz-res2-pass"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &relEnv{version: version, sim: sim}
	logger := zap.New(relPanicCore{LevelEnabler: zapcore.ErrorLevel, panics: &e.panics, last: &e.last})
	up := upstream.Config{BaseURL: "http://plesksim.invalid", Timeout: 10 * time.Second,
		HTTPClient: &http.Client{Transport: relSimTransport{sim}}}
	gw, err := New(Config{Upstream: up, Logger: logger, DescriptorTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	e.gw, e.h = gw, gw.Handler()
	for _, b := range relBase {
		if b.Owner != "" && version < "1.6.0.0" {
			continue // no owners before 1.6.0.0: the legacy base has only admin's clients
		}
		e.base = append(e.base, b)
	}
	e.reset(t)
	relEnvs[version] = e
	return e
}

// packet sends raw XML to the simulator as the administrator, bypassing the
// gateway, and returns the answer.
func (e *relEnv) packet(t testing.TB, xmlBody string) string {
	req := httptest.NewRequest("POST", plesksim.AgentPath, strings.NewReader(xmlBody))
	req.Header.Set("HTTP_AUTH_LOGIN", "admin")
	req.Header.Set("HTTP_AUTH_PASSWD", relAdminPass)
	rec := httptest.NewRecorder()
	e.sim.ServeHTTP(rec, req)
	out := rec.Body.String()
	if rec.Code != 200 || strings.Contains(out, "<status>error</status>") {
		t.Fatalf("raw packet %s: %d %s", xmlBody, rec.Code, out)
	}
	return out
}

func (e *relEnv) operator() string {
	if e.version < "1.6.3.0" {
		return "client"
	}
	return "customer"
}

var relIDRe = regexp.MustCompile(`<id>(\d+)</id>`)

// addRaw creates a client with a raw add packet and returns its id.
func (e *relEnv) addRaw(t testing.TB, b relBaseClient) int {
	var g strings.Builder
	el := func(name, v string) {
		if v != "" {
			fmt.Fprintf(&g, "<%s>%s</%s>", name, relXMLEscape(v), name)
		}
	}
	el("cname", b.Company)
	el("pname", b.Name)
	el("login", b.Login)
	el("passwd", "Pw-"+b.Login+"-1")
	el("email", b.Email)
	el("city", b.City)
	el("country", b.Country)
	if e.version >= "1.6.0.0" {
		el("owner-login", b.Owner)
	}
	if e.version >= "1.6.3.0" {
		el("external-id", b.ExternalID)
	}
	out := e.packet(t, fmt.Sprintf(`<packet version="%s"><%s><add><gen_info>%s</gen_info></add></%s></packet>`, e.version, e.operator(), g.String(), e.operator()))
	m := relIDRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no id in %s", out)
	}
	id, _ := strconv.Atoi(m[1])
	return id
}

func (e *relEnv) delRaw(t testing.TB, id int) {
	e.packet(t, fmt.Sprintf(`<packet version="%s"><%s><del><filter><id>%d</id></filter></del></%s></packet>`, e.version, e.operator(), id, e.operator()))
}

// reset deletes every client that is not a base client and re-creates the
// base clients that are missing or changed.
func (e *relEnv) reset(t testing.TB) {
	want := map[string]relBaseClient{}
	for _, b := range e.base {
		want[b.Login] = b
	}
	have := map[string]bool{}
	for _, c := range e.sim.Clients() {
		b, ok := want[c.Login]
		if ok && c.Name == b.Name && c.Company == b.Company && c.Email == b.Email && c.City == b.City && c.Country == b.Country && c.Status == 0 &&
			(b.Owner == "" && c.OwnerLogin == "admin" || c.OwnerLogin == b.Owner) && (e.version < "1.6.3.0" || c.ExternalID == b.ExternalID) && c.Phone == "" {
			have[c.Login] = true
			continue
		}
		e.delRaw(t, c.ID)
	}
	for _, b := range e.base {
		if !have[b.Login] {
			e.addRaw(t, b)
		}
	}
}

var relXMLEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func relXMLEscape(s string) string { return relXMLEscaper.Replace(s) }

// serve runs one request through the gateway's handler with a recorder.
func (e *relEnv) serve(method, target string, body []byte, contentType, login, password string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	path, rawQuery, _ := strings.Cut(target, "?")
	req.URL.Path, req.URL.RawQuery, req.RequestURI = path, rawQuery, target
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	} else if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if login != "" {
		req.SetBasicAuth(login, password)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// relCheckAnswer applies the invariants every answer of a healthy upstream
// must meet: no panic, no 5xx except 501 for something the protocol lacks
// (with a healthy simulator 502/503/504 mean the gateway built a packet Plesk
// refused or misread its answer), and problem+json on every error.
func relCheckAnswer(t *testing.T, e *relEnv, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	if n := e.panics.Swap(0); n > 0 {
		t.Fatalf("%s: the gateway panicked: %v", what, e.last.Load())
	}
	if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
		t.Fatalf("%s: status %d from a healthy upstream: %s", what, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		relCheckProblem(t, rec.Code, rec.Header(), rec.Body.Bytes(), what)
	}
}

// relCheckProblem checks an RFC 9457 body.
func relCheckProblem(t testing.TB, status int, h http.Header, body []byte, what string) Problem {
	t.Helper()
	if ct := h.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s: status %d with Content-Type %q: %s", what, status, ct, body)
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%s: problem is not JSON: %v: %s", what, err, body)
	}
	if p.Status != status || p.Type == "" || p.Title == "" || p.RequestID == "" {
		t.Fatalf("%s: incomplete problem (HTTP %d): %s", what, status, body)
	}
	return p
}

// relCollapse is XSD whiteSpace="collapse", which the simulator (like Plesk)
// applies to every string it stores.
func relCollapse(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }), " ")
}

// relField maps a JSON field of ClientCreate/ClientPatch to the simulator's value.
func relField(c plesksim.Client, name string) (string, bool) {
	switch name {
	case "name":
		return c.Name, true
	case "login":
		return c.Login, true
	case "company":
		return c.Company, true
	case "email":
		return c.Email, true
	case "phone":
		return c.Phone, true
	case "fax":
		return c.Fax, true
	case "address":
		return c.Address, true
	case "city":
		return c.City, true
	case "state":
		return c.State, true
	case "postal_code":
		return c.PostalCode, true
	case "country":
		return c.Country, true
	case "locale":
		return c.Locale, true
	case "external_id":
		return c.ExternalID, true
	case "description":
		return c.Description, true
	}
	return "", false
}

// relCheckStored checks that every string field of sent (a decoded JSON
// object) is what the simulator holds: the same text, whitespace collapsed;
// null means cleared. The password is compared through ClientPassword.
func relCheckStored(t testing.TB, sim *plesksim.Server, sent map[string]any, c plesksim.Client, what string) {
	t.Helper()
	for k, v := range sent {
		if k == "password" {
			if s, ok := v.(string); ok {
				if got, _ := sim.ClientPassword(c.Login); got != relCollapse(s) {
					t.Fatalf("%s: password stored as something else than was sent", what)
				}
			}
			continue
		}
		if k == "status" {
			if n, ok := v.(float64); ok && int(n) != c.Status {
				t.Fatalf("%s: status %d, sent %v", what, c.Status, v)
			}
			continue
		}
		got, ok := relField(c, k)
		if !ok {
			continue
		}
		want := ""
		if s, isStr := v.(string); isStr {
			want = relCollapse(s)
		} else if v != nil {
			continue
		}
		if got != want {
			t.Fatalf("%s: field %s stored as %q, sent %q (collapsed %q)", what, k, got, v, want)
		}
	}
}

func relClientsByID(cs []plesksim.Client) map[int]plesksim.Client {
	m := make(map[int]plesksim.Client, len(cs))
	for _, c := range cs {
		m[c.ID] = c
	}
	return m
}

func relSameState(a, b []plesksim.Client) bool { return reflect.DeepEqual(a, b) }

package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/gateway/store/storetest"
	"github.com/pleskgate/pleskgate/plesksim"
	"github.com/pleskgate/pleskgate/translator"
)

// Fuzz targets that drive the real gateway handler (validation, translation,
// upstream call, error mapping) against an in-process simulator. Each input
// must: not panic; get no 5xx but 501 (the upstream is healthy); get
// problem+json on every error; and change the simulator's state only when it
// succeeds, and then exactly as sent.
//
//	go test ./gateway -run='^$' -fuzz='^FuzzCreateClientBody$' -fuzztime=10m

// fuzzBodies are JSON seeds: the e2e bodies and the edges of the contract.
var fuzzBodies = []string{
	`{"name":"Stephen Lowell","login":"stevelow","password":"Jhtr66fBB","company":"LogicSoft <Ltd> & \"Co\"","phone":"416 907 9944","email":"stevelow@example.com","city":"Toronto","country":"CA"}`,
	`{"name":"n","login":"l","password":"p"}`,
	`{"name":"n","login":"l","password":"p","owner_login":"res1"}`,
	`{"name":"n","login":"l","password":"p","owner_id":2}`,
	`{"name":"n","login":"l","password":"p","owner_login":"admin","owner_id":1}`,
	`{"name":"n","login":"l","password":"p","owner_login":"nobody"}`,
	`{"name":"n","login":"alpha","password":"p"}`,
	`{"name":"n","login":"l","password":"p","external_id":"ext-a"}`,
	`{"name":"n","login":"l","password":"p","status":16,"locale":"de-DE","state":"ON","postal_code":"M5V 2T6","fax":"1","address":"1 Main St"}`,
	`{"name":"n","login":"l","password":"p","template_name":"Default","description":"d"}`,
	`{"name":"n","login":"l","password":"p","template_id":3}`,
	`{"name":"]]><x/>","login":"l<&>'\"","password":"p]]>","company":"Müller 😀","city":"\u00a0","email":"\r\n"}`,
	`{"name":"\u0001","login":"l","password":"p"}`,
	`{"name":"\ufffe","login":"l","password":"p"}`,
	`{"name":" ","login":"  ","password":"p"}`,
	`{"name":"n","login":"l","password":""}`,
	`{"name":"n","login":"l","password":"p","country":"ca"}`,
	`{"name":"n","login":"l","password":"p","extra":1}`,
	`{"name":"n","login":"l","password":"p"} trailing`,
	`{"name":"n","login":"l","login":"m","password":"p"}`,
	`{"name":null,"login":"l","password":"p"}`,
	`[]`, `null`, ``, `{`, `"x"`,
}

// fuzzPatches are merge-patch seeds.
var fuzzPatches = []string{
	`{}`, `{"city":"Ottawa","phone":null}`, `{"name":null}`, `{"login":"alpha"}`, `{"login":"renamed"}`,
	`{"status":16}`, `{"status":null}`, `{"status":3}`, `{"email":"x@example.com","fax":null,"company":"<&>]]>"}`,
	`{"password":"new-pass-1"}`, `{"password":null}`, `{"external_id":"ext-a"}`, `{"external_id":null,"description":"😀"}`,
	`{"country":"DE","locale":null,"state":"ON","postal_code":"12345","address":"x\ty"}`,
	`{"guid":"x"}`, `{"name":"\u0000"}`, `{"name":""}`, `null`, `[]`, `{"city":1}`,
}

var createContentTypes = []string{"application/json", "application/json; charset=utf-8", "application/merge-patch+json", "text/plain"}

// FuzzCreateClientBody posts arbitrary bodies to POST /clients.
func FuzzCreateClientBody(f *testing.F) {
	for i, b := range fuzzBodies {
		f.Add([]byte(b), uint8(i))
	}
	f.Fuzz(func(t *testing.T, body []byte, sel uint8) {
		e := newSimEnv(t, fuzzVersions[int(sel)%len(fuzzVersions)])
		defer e.reset(t)
		ct := createContentTypes[int(sel/4)%len(createContentTypes)]
		login, pass := "admin", fuzzAdminPass
		if sel&0x40 != 0 {
			login, pass = "res1", fuzzResPass
		}
		fuzzCreate(t, e, body, ct, login, pass)
	})
}

// FuzzCreateClientFields posts well-formed JSON whose string fields are
// arbitrary: the test of translation and of XML escaping.
func FuzzCreateClientFields(f *testing.F) {
	for _, s := range []string{"plain", "<>&'\"", "]]>", "<![CDATA[x]]>", "a\r\nb\tc", "Müller 😀", "\x00", "\xff", "\ufffe", "  two  spaces  ", "</pname><pname>x", "&amp;", "\u00a0", "\u2028"} {
		f.Add("fz-"+s, s, s, s, s, s, uint8(0))
		f.Add("fz-login", s, "company", "pw", "mail", "desc", uint8(1))
	}
	f.Fuzz(func(t *testing.T, login, name, company, password, email, description string, sel uint8) {
		e := newSimEnv(t, fuzzVersions[int(sel)%len(fuzzVersions)])
		defer e.reset(t)
		m := map[string]any{"login": login, "name": name, "password": password, "company": company, "email": email}
		if sel&0x10 != 0 {
			m["description"] = description
		}
		if sel&0x20 != 0 {
			m["address"], m["city"], m["locale"] = description, company, name
		}
		body, err := json.Marshal(m)
		if err != nil {
			t.Skip()
		}
		fuzzCreate(t, e, body, "application/json", "admin", fuzzAdminPass)
	})
}

func fuzzCreate(t *testing.T, e *simEnv, body []byte, ct, login, pass string) {
	before := e.sim.Clients()
	rec := e.serve("POST", "/clients", body, ct, login, pass)
	what := fmt.Sprintf("POST /clients %q (%s, %s, sim %s)", body, ct, login, e.version)
	checkAnswer(t, e, rec, what)
	after := e.sim.Clients()
	if rec.Code != http.StatusCreated {
		if !sameState(before, after) {
			t.Fatalf("%s: status %d but the simulator changed", what, rec.Code)
		}
		return
	}
	old := clientsByID(before)
	var created []plesksim.Client
	for _, c := range after {
		if o, ok := old[c.ID]; ok {
			if !sameState([]plesksim.Client{o}, []plesksim.Client{c}) {
				t.Fatalf("%s: client %d changed: %+v → %+v", what, c.ID, o, c)
			}
			delete(old, c.ID)
			continue
		}
		created = append(created, c)
	}
	if len(old) != 0 || len(created) != 1 {
		t.Fatalf("%s: 201 but %d clients lost and %d created", what, len(old), len(created))
	}
	c := created[0]
	sent := decodeSent(t, body, what)
	checkStored(t, e.sim, sent, c, what)
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("%s: 201 body: %v", what, err)
	}
	if _, ok := got["password"]; ok {
		t.Fatalf("%s: the password came back", what)
	}
	if got["id"] != float64(c.ID) || got["login"] != c.Login {
		t.Fatalf("%s: answered %v, simulator holds %+v", what, got, c)
	}
	if loc := rec.Header().Get("Location"); loc != "/clients/"+strconv.Itoa(c.ID) {
		t.Fatalf("%s: Location %q", what, loc)
	}
}

// FuzzPatchClientBody sends arbitrary merge patches to PATCH /clients/{id}.
func FuzzPatchClientBody(f *testing.F) {
	for i, b := range fuzzPatches {
		f.Add([]byte(b), uint8(i))
	}
	f.Fuzz(func(t *testing.T, body []byte, sel uint8) {
		e := newSimEnv(t, fuzzVersions[int(sel)%len(fuzzVersions)])
		defer e.reset(t)
		targetID := e.addRaw(t, baseClient{Login: "fz-target", Name: "Target T", Company: "T Co", Email: "t@example.com", City: "Oslo", Country: "NO", ExternalID: "ext-t"})
		id := targetID
		switch (sel >> 2) & 3 {
		case 1:
			id = 999999 // no such client
		}
		login, pass := "admin", fuzzAdminPass
		if sel&0x10 != 0 {
			login, pass = "res1", fuzzResPass // cannot see the target: 404, nothing changes
		}
		ct := "application/merge-patch+json"
		if sel&0x20 != 0 {
			ct = "application/json"
		}
		before := e.sim.Clients()
		rec := e.serve("PATCH", "/clients/"+strconv.Itoa(id), body, ct, login, pass)
		what := fmt.Sprintf("PATCH /clients/%d %q (%s, %s, sim %s)", id, body, ct, login, e.version)
		checkAnswer(t, e, rec, what)
		after := e.sim.Clients()
		if rec.Code != http.StatusOK {
			if !sameState(before, after) {
				t.Fatalf("%s: status %d but the simulator changed", what, rec.Code)
			}
			return
		}
		if id != targetID || login != "admin" {
			t.Fatalf("%s: 200 for a client the caller cannot see", what)
		}
		old, now := clientsByID(before), clientsByID(after)
		if len(old) != len(now) {
			t.Fatalf("%s: %d clients before, %d after", what, len(old), len(now))
		}
		for cid, o := range old {
			if cid != targetID && !sameState([]plesksim.Client{o}, []plesksim.Client{now[cid]}) {
				t.Fatalf("%s: another client (%d) changed", what, cid)
			}
		}
		sent := decodeSent(t, body, what)
		checkStored(t, e.sim, sent, now[targetID], what)
		// Fields not sent keep their values.
		for _, k := range []string{"name", "login", "company", "email", "phone", "fax", "address", "city", "state", "postal_code", "country", "locale", "external_id", "description"} {
			if _, ok := sent[k]; ok {
				continue
			}
			a, _ := clientField(old[targetID], k)
			b, _ := clientField(now[targetID], k)
			if a != b {
				t.Fatalf("%s: field %s not sent but changed %q → %q", what, k, a, b)
			}
		}
		var got map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got["login"] != now[targetID].Login {
			t.Fatalf("%s: answer %s vs simulator %+v", what, rec.Body, now[targetID])
		}
		if _, ok := got["password"]; ok {
			t.Fatalf("%s: the password came back", what)
		}
	})
}

// FuzzClientsQuery sends arbitrary query strings to GET and DELETE /clients.
// GET never changes anything; DELETE changes state only with 200, deletes
// exactly the clients it reports deleted, and only clients the query names
// (never "all" for an empty or blank filter).
func FuzzClientsQuery(f *testing.F) {
	for i, q := range []string{
		"", "login=alpha", "login=alpha&login=beta", "id=2&id=3", "id=abc", "id=-1", "id=99999999999999999999",
		"login=", "login=%20", "login=alpha&id=2", "owner_login=res1", "owner_id=2", "external_id=ext-a", "guid=x",
		"include=stat", "include=limits&include=permissions&include=ippool", "include=bogus", "limit=1", "limit=0",
		"limit=1001", "cursor=YWZ0ZXI6Mg", "cursor=!!", "login=alpha;id=2", "login=%zz", "login=a%00b", "login=%3Cx%3E%26",
		"id=2&cursor=YWZ0ZXI6MA&limit=1&include=stat", "owner_login=admin", "login=%E2%80%A8", "login=+alpha+",
	} {
		f.Add(q, uint8(i))
	}
	f.Fuzz(func(t *testing.T, rawQuery string, sel uint8) {
		for _, r := range rawQuery {
			if r <= ' ' || r == 0x7f || r == '#' {
				t.Skip() // not a request target a server would accept
			}
		}
		e := newSimEnv(t, fuzzVersions[int(sel)%len(fuzzVersions)])
		defer e.reset(t)
		method := "GET"
		if sel&0x4 != 0 {
			method = "DELETE"
		}
		login, pass := "admin", fuzzAdminPass
		if sel&0x8 != 0 {
			login, pass = "res1", fuzzResPass
		}
		before := e.sim.Clients()
		target := "/clients"
		if rawQuery != "" {
			target += "?" + rawQuery
		}
		rec := e.serve(method, target, nil, "", login, pass)
		what := fmt.Sprintf("%s %s (%s, sim %s)", method, target, login, e.version)
		checkAnswer(t, e, rec, what)
		after := e.sim.Clients()
		if method == "GET" || rec.Code != http.StatusOK {
			if !sameState(before, after) {
				t.Fatalf("%s: status %d but the simulator changed", what, rec.Code)
			}
			if method == "GET" && rec.Code == http.StatusOK {
				checkListed(t, what, rec.Body.Bytes(), clientsByID(before))
			}
			return
		}
		var res struct {
			Results []struct {
				ID     *int   `json:"id"`
				Status string `json:"status"`
			} `json:"results"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
			t.Fatalf("%s: %v: %s", what, err, rec.Body)
		}
		reported := map[int]bool{}
		for _, r := range res.Results {
			if r.Status == "deleted" {
				if r.ID == nil {
					t.Fatalf("%s: a deleted item without id: %s", what, rec.Body)
				}
				reported[*r.ID] = true
			}
		}
		now := clientsByID(after)
		q, _ := url.ParseQuery(rawQuery)
		for id, c := range clientsByID(before) {
			_, still := now[id]
			if still == reported[id] {
				t.Fatalf("%s: client %d (%s) present after=%v, reported deleted=%v: %s", what, id, c.Login, still, reported[id], rec.Body)
			}
			if !still && !queryNames(q, c) {
				t.Fatalf("%s: deleted client %d (%s) the query does not name", what, id, c.Login)
			}
		}
		if len(now) > len(before) {
			t.Fatalf("%s: DELETE created clients", what)
		}
	})
}

// checkListed checks a 200 list against the state it was read from.
func checkListed(t *testing.T, what string, body []byte, state map[int]plesksim.Client) {
	var list struct {
		Items []struct {
			ID    int    `json:"id"`
			Login string `json:"login"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("%s: %v: %s", what, err, body)
	}
	seen := map[int]bool{}
	for _, it := range list.Items {
		c, ok := state[it.ID]
		if !ok || c.Login != it.Login || seen[it.ID] {
			t.Fatalf("%s: listed %d %q that the simulator does not hold (or twice): %s", what, it.ID, it.Login, body)
		}
		seen[it.ID] = true
	}
}

// queryNames reports whether a filter parameter of q selects c.
func queryNames(q url.Values, c plesksim.Client) bool {
	ints := func(k string, want int) bool {
		for _, v := range q[k] {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n == int64(want) {
				return true
			}
		}
		return false
	}
	strs := func(k, want string) bool {
		for _, v := range q[k] {
			if want != "" && collapseSpace(v) == want {
				return true
			}
		}
		return false
	}
	return ints("id", c.ID) || strs("login", c.Login) || strs("guid", c.GUID) || strs("external_id", c.ExternalID) ||
		ints("owner_id", c.OwnerID) || strs("owner_login", c.OwnerLogin)
}

// sameNumbers compares dotted numbers ignoring leading zeros ("01.6" = "1.6").
func sameNumbers(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	if len(as) != len(bs) {
		return false
	}
	for i := range as {
		x, err1 := strconv.ParseUint(as[i], 10, 32)
		y, err2 := strconv.ParseUint(bs[i], 10, 32)
		if err1 != nil || err2 != nil || x != y {
			return false
		}
	}
	return true
}

// decodeSent decodes the body the gateway accepted. Known bug (see
// TestTrailingJSON): the gateway reads only the first JSON value
// and ignores whatever follows, so that is what is compared.
func decodeSent(t *testing.T, body []byte, what string) map[string]any {
	t.Helper()
	var sent map[string]any
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&sent); err != nil {
		t.Fatalf("%s: success for a body that does not start with a JSON object: %v", what, err)
	}
	return sent
}

// Before (issue 14): two concurrent PATCHes with one If-Match both got 200,
// the second silently overwriting the first. After: the check and the change
// run under the client's lock, so exactly one gets 200 and the other 412;
// with Redis the lock holds across replicas. Every path releases it: a
// change right after, with the winner's ETag, is not kept waiting.
func TestConcurrentPatchesWithOneETag(t *testing.T) {
	t.Run("one replica", func(t *testing.T) {
		h := newHarness(t)
		concurrentPatches(t, h, h, h)
	})
	t.Run("two replicas sharing Redis", func(t *testing.T) {
		a, b := redisReplicas(t, storetest.StartRedis(t))
		concurrentPatches(t, a, a, b)
	})
}

func concurrentPatches(t *testing.T, h, first, second *harness) {
	t.Helper()
	created := h.expect(h.do("POST", "/clients", newClientBody("racer")), http.StatusCreated)
	var c struct{ ID int }
	created.json(t, &c)
	path := fmt.Sprintf("/clients/%d", c.ID)
	etag := h.expect(h.do("GET", path, nil), http.StatusOK).Header.Get("ETag")
	// Each packet takes 150 ms: without the lock both reads of the ETag
	// happen before either change.
	h.sim.SetFaults(plesksim.Faults{Latency: 150 * time.Millisecond})
	type result struct {
		city   string
		status int
		etag   string
	}
	results := make(chan result, 2)
	for _, r := range []struct {
		h    *harness
		city string
	}{{first, "First"}, {second, "Second"}} {
		go func() {
			resp := r.h.with("If-Match", etag).do("PATCH", path, obj{"city": r.city}, "application/merge-patch+json")
			results <- result{r.city, resp.StatusCode, resp.Header.Get("ETag")}
		}()
	}
	var won result
	statuses := map[int]int{}
	for range 2 {
		r := <-results
		statuses[r.status]++
		if r.status == http.StatusOK {
			won = r
		}
	}
	if statuses[http.StatusOK] != 1 || statuses[http.StatusPreconditionFailed] != 1 {
		t.Fatalf("statuses %v, want one 200 and one 412", statuses)
	}
	h.sim.SetFaults(plesksim.Faults{})
	for _, sc := range h.sim.Clients() {
		if sc.Login == "racer" && sc.City != won.city {
			t.Fatalf("Plesk has city %q, the 200 was for %q", sc.City, won.city)
		}
	}
	// A lock left held would make this wait lockWait and answer 503.
	second.expect(second.with("If-Match", won.etag).do("DELETE", path, nil), http.StatusNoContent)
}

// gatedPanel sits between the gateway and the simulator and calls hook with
// each packet's login and body before the simulator executes it. A hook that
// blocks holds the packet like a slow panel: the packet is still executed
// afterwards, whether or not the gateway is still waiting for it (PHP finishes
// a request after its client left).
type gatedPanel struct {
	sim  *plesksim.Server
	hook func(login string, body []byte)
}

func (g *gatedPanel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	g.hook(r.Header.Get("HTTP_AUTH_LOGIN"), body)
	g.sim.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
}

// newGatedHarness is a harness whose upstream is a gatedPanel; the hook is
// installed after protocol discovery.
func newGatedHarness(t *testing.T, hook func(login string, body []byte), opts ...harnessOpt) *harness {
	t.Helper()
	var installed atomic.Bool
	g := &gatedPanel{}
	g.hook = func(login string, body []byte) {
		if installed.Load() {
			hook(login, body)
		}
	}
	front := httptest.NewServer(g)
	t.Cleanup(front.Close)
	opts = append(opts, func(_ *plesksim.Config, gc *Config) { gc.Upstream.BaseURL = front.URL })
	h := newHarness(t, opts...)
	g.sim = h.sim
	h.expect(h.do("GET", "/meta", nil), http.StatusOK)
	installed.Store(true)
	return h
}

func setCount(sim *plesksim.Server) int64 {
	var n int64
	for op, c := range sim.Stats().Operations {
		if strings.HasSuffix(op, "/set") {
			n += c
		}
	}
	return n
}

func cityOf(t *testing.T, sim *plesksim.Server, login string) string {
	t.Helper()
	for _, c := range sim.Clients() {
		if c.Login == login {
			return c.City
		}
	}
	t.Fatalf("no client %q at the panel", login)
	return ""
}

// patchCtx sends a conditional PATCH on ctx and returns the status (0 when
// the caller hung up).
func (h *harness) patchCtx(ctx context.Context, path, etag string, patch obj) int {
	data, _ := json.Marshal(patch)
	req, _ := http.NewRequestWithContext(ctx, "PATCH", h.srv.URL+path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/merge-patch+json")
	req.Header.Set("If-Match", etag)
	req.SetBasicAuth(h.user, h.pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// Before: A's conditional PATCH reached a slow panel and A hung up; the
// gateway released the client's lock at once, so B's PATCH with the same
// ETag read the old client, matched and sent its own set: both changes
// applied, B got 200. After: the change runs detached from the caller and
// the lock is held until the panel answered, so B reads A's result and gets
// 412; the panel sees one set.
func TestConditionalChangeHoldsLockAfterCallerHangsUp(t *testing.T) {
	arrived := make(chan struct{}, 4)
	release := make(chan struct{})
	h := newGatedHarness(t, func(_ string, body []byte) {
		if bytes.Contains(body, []byte("<set>")) {
			arrived <- struct{}{}
			<-release
		}
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	created := h.expect(h.do("POST", "/clients", newClientBody("hangup")), http.StatusCreated)
	var c struct{ ID int }
	created.json(t, &c)
	path := fmt.Sprintf("/clients/%d", c.ID)
	etag := h.expect(h.do("GET", path, nil), http.StatusOK).Header.Get("ETag")

	ctx, hangUp := context.WithCancel(context.Background())
	aDone := make(chan int, 1)
	go func() { aDone <- h.patchCtx(ctx, path, etag, obj{"city": "A-city"}) }()
	<-arrived // A's set is at the panel
	hangUp()
	if st := <-aDone; st != 0 {
		t.Fatalf("A got %d, want a hang-up", st)
	}
	bDone := make(chan int, 1)
	go func() { bDone <- h.patchCtx(context.Background(), path, etag, obj{"city": "B-city"}) }()
	// Without the lock held, B's set reaches the panel while A's is still there.
	select {
	case <-arrived:
	case <-time.After(500 * time.Millisecond):
	}
	close(release)
	if st := <-bDone; st != http.StatusPreconditionFailed {
		t.Errorf("B got %d, want 412 (A's change was applied first)", st)
	}
	if n := setCount(h.sim); n != 1 {
		t.Errorf("the panel executed %d sets, want 1", n)
	}
	if city := cityOf(t, h.sim, "hangup"); city != "A-city" {
		t.Errorf("city %q, want A's", city)
	}
}

// Before: a reseller's conditional PATCHes to an administrator's client it
// cannot see took the client's lock before Plesk had answered their read
// (each then 404), so the administrator's own conditional PATCH waited for
// the lock and got 503 client-busy. After: the If-Match read authorises
// before the lock is taken; a stranger's requests never hold it.
func TestStrangersCannotHoldClientLock(t *testing.T) {
	held := make(chan struct{})
	var strangerReads atomic.Int32
	h := newGatedHarness(t, func(login string, body []byte) {
		if login == "res1" && bytes.Contains(body, []byte("<get>")) {
			strangerReads.Add(1)
			<-held
		}
	}, func(_ *plesksim.Config, gc *Config) { gc.ClientLockWait = time.Second })
	released := false
	release := func() {
		if !released {
			released = true
			close(held)
		}
	}
	t.Cleanup(release)
	created := h.expect(h.do("POST", "/clients", newClientBody("admins-own")), http.StatusCreated)
	var c struct{ ID int }
	created.json(t, &c)
	path := fmt.Sprintf("/clients/%d", c.ID)
	etag := h.expect(h.do("GET", path, nil), http.StatusOK).Header.Get("ETag")

	res := h.as("res1", resellerPass)
	statuses := make(chan int, 12)
	for range 12 {
		go func() { statuses <- res.patchCtx(context.Background(), path, etag, obj{"city": "Stranger"}) }()
	}
	waitFor(t, "a stranger's read at the panel", func() bool { return strangerReads.Load() > 0 })
	if st := h.patchCtx(context.Background(), path, etag, obj{"city": "Admin"}); st != http.StatusOK {
		t.Errorf("the administrator's conditional PATCH got %d while strangers' reads were at the panel, want 200", st)
	}
	release()
	for range 12 {
		if st := <-statuses; st != http.StatusNotFound {
			t.Errorf("a stranger got %d, want 404", st)
		}
	}
	if city := cityOf(t, h.sim, "admins-own"); city != "Admin" {
		t.Errorf("city %q, want the administrator's", city)
	}
}

// Of two concurrent changes with one ETag from two callers who can both see
// the client (the administrator and the reseller owning it) exactly one wins:
// authorising before the lock does not make the lock per caller.
func TestConcurrentPatchesWithOneETagFromTwoCallers(t *testing.T) {
	h := newHarness(t)
	res := h.as("res1", resellerPass)
	concurrentPatches(t, res, h, res)
}

// Before: a Redis lock that lapsed (Redis paused, another replica took it)
// was not noticed, and the change was sent anyway: two PATCHes with one ETag
// could both get 200. After: the lock is confirmed (and renewed) right
// before the packet goes; a lock no longer held is 503 and nothing is sent.
func TestRedisLockLostBeforeSendSendsNothing(t *testing.T) {
	r := storetest.StartRedis(t)
	rdb := r.Client()
	var steal atomic.Bool
	h := newGatedHarness(t, func(_ string, body []byte) {
		if !steal.Load() || !bytes.Contains(body, []byte("<get>")) {
			return
		}
		// Another replica takes the lock while this one reads the client.
		ctx := context.Background()
		keys, _ := rdb.Keys(ctx, "pleskgate:lock:*").Result()
		for _, k := range keys {
			rdb.Set(ctx, k, "another-replica", 5*time.Second)
		}
	}, func(_ *plesksim.Config, gc *Config) {
		gc.Cache, gc.Idempotency = newRedisStoresT(t, r.URL())
		gc.StateSecret = replicaSecret
	})
	created := h.expect(h.do("POST", "/clients", newClientBody("fenced")), http.StatusCreated)
	var c struct{ ID int }
	created.json(t, &c)
	path := fmt.Sprintf("/clients/%d", c.ID)
	etag := h.expect(h.do("GET", path, nil), http.StatusOK).Header.Get("ETag")
	steal.Store(true)
	if st := h.patchCtx(context.Background(), path, etag, obj{"city": "Lost"}); st != http.StatusServiceUnavailable {
		t.Errorf("PATCH under a lost lock got %d, want 503", st)
	}
	if n := setCount(h.sim); n != 0 {
		t.Errorf("the panel executed %d sets, want none", n)
	}
}

// sentMatches compares every text field a create sends that Plesk's answer
// carries: a client that differs in any one is not taken as the first
// attempt's. Reflection sets each optional text field of NewClient in turn,
// so a field added later cannot slip past the comparison unnoticed.
func TestSentMatchesComparesEverySentField(t *testing.T) {
	notCarried := map[string]bool{"OwnerExternalID": true, "TemplateName": true} // the get's answer has neither
	base := translator.NewClient{Login: "match", Name: "Match Me", Password: "secret"}
	info := translator.ClientInfo{Login: "match", Name: "Match Me", Locale: "en-US", OwnerLogin: "admin"}
	if !sentMatches(info, base) {
		t.Fatal("a client with the sent login and name does not match a body that sent nothing else")
	}
	typ := reflect.TypeFor[translator.NewClient]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Type != reflect.TypeFor[*string]() || notCarried[f.Name] {
			continue
		}
		nc := base
		v := "sent " + f.Name
		reflect.ValueOf(&nc).Elem().Field(i).Set(reflect.ValueOf(&v))
		if sentMatches(info, nc) {
			t.Errorf("%s: sent %q, the client holds another value, and still it matches", f.Name, v)
		}
	}
	for name, c := range map[string]struct {
		info translator.ClientInfo
		nc   translator.NewClient
	}{
		"name":     {translator.ClientInfo{Login: "match", Name: "Other"}, base},
		"login":    {translator.ClientInfo{Login: "other", Name: "Match Me"}, base},
		"owner id": {translator.ClientInfo{Login: "match", Name: "Match Me", OwnerID: new(1)}, translator.NewClient{Login: "match", Name: "Match Me", OwnerID: new(7)}},
	} {
		if sentMatches(c.info, c.nc) {
			t.Errorf("%s differs, and still it matches", name)
		}
	}
}

// idlessAddPanel answers every add as done but drops the new client's id
// from its result, as a broken panel might.
type idlessAddPanel struct{ sim *plesksim.Server }

var addResultID = regexp.MustCompile(`(<add>\s*<result>\s*<status>ok</status>\s*)<id>\d+</id>`)

func (p *idlessAddPanel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	p.sim.ServeHTTP(rec, r)
	body := addResultID.ReplaceAll(rec.Body.Bytes(), []byte("$1"))
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// An add Plesk reports as done without the new client's id: nothing read
// back can be proven to be that client, so POST /clients answers 502 (it
// answered 201 with Location /clients/0), as the batch answers that item.
func TestCreateAddWithoutIDIsBadGateway(t *testing.T) {
	p := &idlessAddPanel{}
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.Upstream.BaseURL = front.URL })
	p.sim = h.sim
	r := h.expect(h.do("POST", "/clients", newClientBody("noid")), http.StatusBadGateway)
	if pr := r.problem(t); pr.Type != problemType("bad-upstream-answer") || !strings.Contains(pr.Detail, "gave no id") || r.Header.Get("Location") != "" {
		t.Fatalf("create: %v %s", r.Header, r.body)
	}
	out, _ := h.batch(batchBody(batchItemBody("noid1", "No Id")), http.StatusOK)
	if got := fmt.Sprint(out.statuses()); got != "[502]" || out.Results[0].Problem == nil || !strings.Contains(out.Results[0].Problem.Detail, "gave no id") {
		t.Fatalf("batch: %+v", out)
	}
}

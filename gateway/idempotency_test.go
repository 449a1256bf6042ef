package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/gateway/store/storetest"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

func TestRedisReplicasShareIdempotencyKeys(t *testing.T) {
	r := storetest.StartRedis(t)
	a, b := redisReplicas(t, r)
	ka, kb := a.with("Idempotency-Key", "replica-key"), b.with("Idempotency-Key", "replica-key")

	first := ka.expect(ka.do("POST", "/clients", newClientBody("idem-redis")), http.StatusCreated)
	replay := kb.expect(kb.do("POST", "/clients", newClientBody("idem-redis")), http.StatusCreated)
	if replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("the other replica did not replay")
	}
	if string(replay.body) != string(first.body) || replay.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("replay differs:\n%s\n%s", first.body, replay.body)
	}
	if n := len(a.sim.Clients()); n != 1 {
		t.Fatalf("%d clients after a replay on another replica", n)
	}
	// Same key, different request, on either replica: 422.
	kb.expect(kb.do("POST", "/clients", newClientBody("idem-redis-other")), http.StatusUnprocessableEntity).problem(t)
	// Keys stay per caller across replicas.
	rb := b.as("res1", resellerPass).with("Idempotency-Key", "replica-key")
	rb.expect(rb.do("POST", "/clients", newClientBody("idem-redis-res")), http.StatusCreated)
	if n := len(a.sim.Clients()); n != 2 {
		t.Fatalf("%d clients, want 2", n)
	}
	// The records are in Redis under the prefix, remembered for the idempotency TTL (24h).
	rdb := r.Client()
	keys := rdb.Keys(context.Background(), "pleskgate:idem:*").Val()
	if len(keys) != 2 {
		t.Fatalf("idempotency keys %v, want 2", keys)
	}
	for _, k := range keys {
		if ttl := rdb.PTTL(context.Background(), k).Val(); ttl < 23*time.Hour || ttl > 24*time.Hour {
			t.Fatalf("key %q has TTL %v, want about 24h", k, ttl)
		}
	}
}

func TestRedisConcurrentPostsAcrossReplicasCreateOneClient(t *testing.T) {
	r := storetest.StartRedis(t)
	a, b := redisReplicas(t, r)
	// Slow the upstream so the 50 requests overlap the first one.
	a.sim.SetFaults(plesksim.Faults{Latency: 150 * time.Millisecond})
	replicas := []*harness{a.with("Idempotency-Key", "burst"), b.with("Idempotency-Key", "burst")}
	const n = 50
	var wg sync.WaitGroup
	var created, inFlight atomic.Int32
	locations := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := replicas[i%2]
			resp := h.do("POST", "/clients", newClientBody("burst"))
			switch resp.StatusCode {
			case http.StatusCreated:
				created.Add(1)
				locations <- resp.Header.Get("Location")
			case http.StatusConflict:
				inFlight.Add(1)
			default:
				t.Errorf("status %d: %s", resp.StatusCode, resp.body)
			}
		}()
	}
	wg.Wait()
	close(locations)
	if got := len(a.sim.Clients()); got != 1 {
		t.Fatalf("50 concurrent POSTs with one key on two replicas created %d clients", got)
	}
	seen := map[string]bool{}
	for l := range locations {
		seen[l] = true
	}
	if created.Load() < 1 || len(seen) != 1 {
		t.Fatalf("created=%d in-flight=%d locations=%v", created.Load(), inFlight.Load(), seen)
	}
	t.Logf("created=%d (1 new + replays) in-flight=%d", created.Load(), inFlight.Load())
}

// TestRedisDown kills Redis under two running replicas. Decided behaviour
// (DESIGN.md §5): reads go on without the cache (Cache-Status fwd=bypass);
// a POST with an Idempotency-Key is refused with 503 because no replica can
// promise at-most-once without the shared store, and a duplicate client is
// worse than a retry; a POST without the key asked for no such promise and is
// served. When Redis is back the gateways use it again without a restart.
func TestRedisDown(t *testing.T) {
	r := storetest.StartRedis(t)
	a, b := redisReplicas(t, r)
	a.expect(a.do("GET", "/descriptors/limits", nil), http.StatusOK)

	r.Kill()

	for _, h := range []*harness{a, b} {
		start := time.Now()
		resp := h.expect(h.do("GET", "/descriptors/limits", nil), http.StatusOK)
		if cs := resp.Header.Get("Cache-Status"); cs != "pleskgate; fwd=bypass; detail=store-unavailable" {
			t.Fatalf("descriptor with Redis down: Cache-Status %q", cs)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("a dead Redis made a descriptor read take %v", d)
		}
		h.expect(h.do("GET", "/clients", nil), http.StatusOK)
	}

	k := a.with("Idempotency-Key", "while-down")
	p := k.expect(k.do("POST", "/clients", newClientBody("while-down")), http.StatusServiceUnavailable).problem(t)
	if !strings.HasSuffix(p.Type, "idempotency-unavailable") || !strings.Contains(p.Detail, "Idempotency-Key") || !strings.Contains(p.Detail, "unreachable") {
		t.Fatalf("503 problem does not say why: %+v", p)
	}
	if n := len(a.sim.Clients()); n != 0 {
		t.Fatalf("a refused POST created %d clients", n)
	}
	b.expect(b.do("POST", "/clients", newClientBody("no-key")), http.StatusCreated)
	if n := len(a.sim.Clients()); n != 1 {
		t.Fatalf("%d clients after a POST without a key", n)
	}

	// Redis comes back (empty: no persistence); the same gateways use it again.
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := k.do("POST", "/clients", newClientBody("while-down"))
		if resp.StatusCode == http.StatusCreated {
			break
		}
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("after Redis came back: status %d: %s", resp.StatusCode, resp.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	kb := b.with("Idempotency-Key", "while-down")
	replay := kb.expect(kb.do("POST", "/clients", newClientBody("while-down")), http.StatusCreated)
	if replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("no replay across replicas after Redis came back")
	}
	b.expect(b.do("GET", "/descriptors/limits", nil), http.StatusOK)
	resp := a.expect(a.do("GET", "/descriptors/limits", nil), http.StatusOK)
	if cs := resp.Header.Get("Cache-Status"); !strings.HasPrefix(cs, "pleskgate; hit") {
		t.Fatalf("cache not shared again after Redis came back: Cache-Status %q", cs)
	}
}

func TestIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	k := h.with("Idempotency-Key", "key-1")
	first := k.expect(k.do("POST", "/clients", newClientBody("idem")), http.StatusCreated)
	again := k.expect(k.do("POST", "/clients", newClientBody("idem")), http.StatusCreated)
	if string(first.body) != string(again.body) || again.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("replay differs:\n%s\n%s", first.body, again.body)
	}
	if again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("replay not marked")
	}
	if n := len(h.sim.Clients()); n != 1 {
		t.Fatalf("%d clients after a replay", n)
	}
	// Same key, different body.
	k.expect(k.do("POST", "/clients", newClientBody("idem-other")), http.StatusUnprocessableEntity).problem(t)
	// A refused request is final for its key too: its problem is replayed.
	k2 := h.with("Idempotency-Key", "key-2")
	p1 := k2.expect(k2.do("POST", "/clients", newClientBody("idem")), http.StatusConflict)
	p2 := k2.expect(k2.do("POST", "/clients", newClientBody("idem")), http.StatusConflict)
	if string(p1.body) != string(p2.body) {
		t.Fatal("a stored problem was not replayed")
	}
	// Keys are per caller: another caller's key-1 is a new request.
	r := h.as("res1", resellerPass).with("Idempotency-Key", "key-1")
	r.expect(r.do("POST", "/clients", newClientBody("idem-res")), http.StatusCreated)
}

func TestIdempotencyConcurrentPostsCreateOneClient(t *testing.T) {
	h := newHarness(t)
	h.expect(h.do("GET", "/meta", nil), http.StatusOK)
	// Slow the upstream so the 50 requests overlap the first one.
	h.sim.SetFaults(plesksim.Faults{Latency: 150 * time.Millisecond})
	k := h.with("Idempotency-Key", "burst")
	const n = 50
	var wg sync.WaitGroup
	var created, inFlight, other atomic.Int32
	ids := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := k.do("POST", "/clients", newClientBody("burst"))
			switch r.StatusCode {
			case http.StatusCreated:
				created.Add(1)
				ids <- r.Header.Get("Location")
			case http.StatusConflict:
				inFlight.Add(1)
			default:
				other.Add(1)
				t.Errorf("status %d: %s", r.StatusCode, r.body)
			}
		}()
	}
	wg.Wait()
	close(ids)
	if got := len(h.sim.Clients()); got != 1 {
		t.Fatalf("50 concurrent POSTs with one key created %d clients", got)
	}
	seen := map[string]bool{}
	for id := range ids {
		seen[id] = true
	}
	if created.Load() < 1 || len(seen) != 1 || other.Load() != 0 {
		t.Fatalf("created=%d in-flight=%d other=%d locations=%v", created.Load(), inFlight.Load(), other.Load(), seen)
	}
}

// heldSim sits between the gateway and the simulator and holds the answer
// to write packets that match hold: the packet is executed by the simulator
// (or not, with before), then its answer waits for release or until the
// gateway gives up (its upstream timeout, or a cancelled call).
type heldSim struct {
	sim       *plesksim.Server
	match     string // packets containing it are held
	before    bool   // hold before executing (the packet never takes effect)
	remaining atomic.Int32
	executed  chan struct{} // one send per held packet, once it ran (or would have)
	release   chan struct{} // closed to let held answers through
	abandoned atomic.Int32  // held packets whose call the gateway abandoned
}

func (g *heldSim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if !bytes.Contains(body, []byte(g.match)) || g.remaining.Add(-1) < 0 {
		g.sim.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	if !g.before {
		g.sim.ServeHTTP(rec, r)
	}
	g.executed <- struct{}{}
	select {
	case <-g.release:
		if g.before {
			g.sim.ServeHTTP(w, r)
			return
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	case <-r.Context().Done():
		g.abandoned.Add(1)
	}
}

// newHeldHarness is a harness whose upstream is a heldSim holding the first
// n packets containing match; upstream timeout as given.
func newHeldHarness(t *testing.T, match string, n int, before bool, timeout time.Duration, opts ...harnessOpt) (*harness, *heldSim) {
	g := &heldSim{match: match, before: before, executed: make(chan struct{}, 16), release: make(chan struct{})}
	g.remaining.Store(int32(n))
	front := httptest.NewServer(g)
	t.Cleanup(front.Close)
	t.Cleanup(func() {
		select {
		case <-g.release:
		default:
			close(g.release)
		}
	})
	opts = append(opts, func(_ *plesksim.Config, gc *Config) {
		gc.Upstream.BaseURL, gc.Upstream.Timeout = front.URL, timeout
	})
	h := newHarness(t, opts...)
	g.sim = h.sim
	if match != "get_protos" {
		h.expect(h.do("GET", "/meta", nil), http.StatusOK) // protocol discovery before the held packets
	}
	return h, g
}

// waitFor polls cond until it holds; it fails the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// doCtx is h.do with a context, returning the transport error instead of failing.
func (h *harness) doCtx(ctx context.Context, method, path string, body any) (int, error) {
	data, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, method, h.srv.URL+path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(h.user, h.pass)
	for k, vs := range h.headers {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func addCount(sim *plesksim.Server) int64 {
	var n int64
	for op, c := range sim.Stats().Operations {
		if strings.HasSuffix(op, "/add") {
			n += c
		}
	}
	return n
}

// Before (issue 14): a caller that gave up after the add was sent got 499
// stored as the key's answer and replayed for 24 h, though the client
// existed. After: the add is finished detached from the caller, and the
// retry replays its true 201.
func TestIdempotencyCallerGoneAfterAddStoresTrueOutcome(t *testing.T) {
	h, g := newHeldHarness(t, "<add>", 1, false, 5*time.Second)
	k := h.with("Idempotency-Key", "gone-1")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := k.doCtx(ctx, "POST", "/clients", newClientBody("gone")); errc <- err }()
	<-g.executed // the add ran in Plesk; its answer is held
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("the cancelled request completed")
	}
	waitFor(t, "the gateway to see the caller go", func() bool {
		return h.logs.FilterMessageSnippet("caller went away after the write was sent").Len() > 0
	})
	close(g.release)
	var r response
	waitFor(t, "the first attempt to finish", func() bool {
		r = k.do("POST", "/clients", newClientBody("gone"))
		return r.StatusCode != http.StatusConflict
	})
	k.expect(r, http.StatusCreated)
	if r.Header.Get("Idempotent-Replayed") != "true" || r.Header.Get("Location") == "" {
		t.Fatalf("retry after a disconnect: headers %v body %s", r.Header, r.body)
	}
	if n, adds := len(h.sim.Clients()), addCount(h.sim); n != 1 || adds != 1 || g.abandoned.Load() != 0 {
		t.Fatalf("clients=%d adds=%d abandoned=%d, want 1 1 0", n, adds, g.abandoned.Load())
	}
}

// A caller that goes away before any write leaves no record: the retry
// runs. The read that comes first (protocol discovery) is held, the caller
// leaves, the gateway abandons the read and sends nothing else.
func TestIdempotencyCallerGoneBeforeWriteFreesKey(t *testing.T) {
	h, g := newHeldHarness(t, "get_protos", 1, true, 5*time.Second)
	k := h.with("Idempotency-Key", "gone-early")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := k.doCtx(ctx, "POST", "/clients", newClientBody("early")); errc <- err }()
	<-g.executed
	cancel()
	<-errc
	waitFor(t, "the held read to be abandoned", func() bool { return g.abandoned.Load() == 1 })
	var r response
	waitFor(t, "the key to be freed", func() bool {
		r = k.do("POST", "/clients", newClientBody("early"))
		return r.StatusCode != http.StatusConflict
	})
	k.expect(r, http.StatusCreated)
	if r.Header.Get("Idempotent-Replayed") != "" || addCount(h.sim) != 1 {
		t.Fatalf("replayed=%q adds=%d", r.Header.Get("Idempotent-Replayed"), addCount(h.sim))
	}
}

// createOne creates a client without a key and returns its id.
func createOne(h *harness, login string) int {
	r := h.expect(h.do("POST", "/clients", newClientBody(login)), http.StatusCreated)
	id, err := strconv.Atoi(strings.TrimPrefix(r.Header.Get("Location"), "/clients/"))
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

// Before (issue 14): the upstream timed out after Plesk created the client,
// the key was freed, the retry sent add again and Plesk's 409 "already
// exists" was stored. After: the timeout is stored as an unknown outcome;
// the retry reads the client by login and answers 201 reconciled, with one add.
func TestIdempotencyTimeoutAfterAddReconciles(t *testing.T) {
	h, g := newHeldHarness(t, "<add>", 1, false, time.Second)
	k := h.with("Idempotency-Key", "slow-1")
	k.expect(k.do("POST", "/clients", newClientBody("slowadd")), http.StatusGatewayTimeout)
	<-g.executed
	r := k.expect(k.do("POST", "/clients", newClientBody("slowadd")), http.StatusCreated)
	if r.Header.Get("Idempotent-Reconciled") != "true" || r.Header.Get("Location") == "" {
		t.Fatalf("retry after a timeout: headers %v body %s", r.Header, r.body)
	}
	var c obj
	r.json(t, &c)
	if c["login"] != "slowadd" {
		t.Fatalf("reconciled body %s", r.body)
	}
	again := k.expect(k.do("POST", "/clients", newClientBody("slowadd")), http.StatusCreated)
	if again.Header.Get("Idempotent-Replayed") != "true" || again.Header.Get("Idempotent-Reconciled") != "true" || string(again.body) != string(r.body) {
		t.Fatalf("second retry: %v %s", again.Header, again.body)
	}
	if n, adds := len(h.sim.Clients()), addCount(h.sim); n != 1 || adds != 1 {
		t.Fatalf("clients=%d adds=%d, want 1 and 1", n, adds)
	}
	// Another body with the key is still a mismatch.
	k.expect(k.do("POST", "/clients", newClientBody("slowadd2")), http.StatusUnprocessableEntity)
}

// A timeout where the add never took effect: the retry finds no client and sends it.
func TestIdempotencyTimeoutBeforeAddRetriesOnce(t *testing.T) {
	h, g := newHeldHarness(t, "<add>", 1, true, time.Second)
	k := h.with("Idempotency-Key", "lost-1")
	k.expect(k.do("POST", "/clients", newClientBody("lostadd")), http.StatusGatewayTimeout)
	<-g.executed
	r := k.expect(k.do("POST", "/clients", newClientBody("lostadd")), http.StatusCreated)
	if r.Header.Get("Idempotent-Reconciled") != "" || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("a fresh add marked %v", r.Header)
	}
	if n := len(h.sim.Clients()); n != 1 {
		t.Fatalf("%d clients", n)
	}
}

func TestIdempotencyIPPoolAddReconciles(t *testing.T) {
	h, g := newHeldHarness(t, "<ippool_add_ip>", 1, false, time.Second)
	id := createOne(h, "pooled")
	path := "/clients/" + strconv.Itoa(id) + "/ippool"
	k := h.with("Idempotency-Key", "ip-1")
	k.expect(k.do("POST", path, obj{"ip_address": "192.0.2.10"}), http.StatusGatewayTimeout)
	<-g.executed
	r := k.expect(k.do("POST", path, obj{"ip_address": "192.0.2.10"}), http.StatusCreated)
	if r.Header.Get("Idempotent-Reconciled") != "true" || !strings.Contains(string(r.body), "192.0.2.10") {
		t.Fatalf("ip pool retry: %v %s", r.Header, r.body)
	}
	if n := h.sim.Stats().Operations["client/ippool_add_ip"]; n != 1 {
		t.Fatalf("%d ippool_add_ip packets, want 1 (ops %v)", n, h.sim.Stats().Operations)
	}
}

// convert-to-reseller cannot be confirmed (no reseller read): after an
// unknown outcome the retry sends nothing and says so.
func TestIdempotencyConvertUnknownIsNotResent(t *testing.T) {
	h, g := newHeldHarness(t, "<convert-to-reseller>", 1, false, time.Second)
	id := createOne(h, "convert1")
	path := "/clients/" + strconv.Itoa(id) + "/convert-to-reseller"
	k := h.with("Idempotency-Key", "conv-1")
	k.expect(k.do("POST", path, obj{}), http.StatusGatewayTimeout)
	<-g.executed
	p := k.expect(k.do("POST", path, obj{}), http.StatusConflict).problem(t)
	if !strings.HasSuffix(p.Type, "idempotency-outcome-unknown") {
		t.Fatalf("problem %+v", p)
	}
	var converts int64
	for op, n := range h.sim.Stats().Operations {
		if strings.HasSuffix(op, "convert-to-reseller") {
			converts += n
		}
	}
	if converts != 1 {
		t.Fatalf("%d conversions sent, want 1", converts)
	}
	// Not converted (held before it ran): the retry converts.
	h2, g2 := newHeldHarness(t, "<convert-to-reseller>", 1, true, time.Second)
	id2 := createOne(h2, "convert2")
	path2 := "/clients/" + strconv.Itoa(id2) + "/convert-to-reseller"
	k2 := h2.with("Idempotency-Key", "conv-2")
	k2.expect(k2.do("POST", path2, obj{}), http.StatusGatewayTimeout)
	<-g2.executed
	k2.expect(k2.do("POST", path2, obj{}), http.StatusOK)
}

// Before (issue 14): a request refused before execution consumed its key,
// so the corrected retry got 422 idempotency-key-reused. After: no record.
func TestIdempotencyRefusedRequestFreesKey(t *testing.T) {
	h := newHarness(t)
	k := h.with("Idempotency-Key", "typo-1")
	bad := newClientBody("typo")
	bad["password"] = ""
	if r := k.do("POST", "/clients", bad); r.StatusCode != http.StatusUnprocessableEntity && r.StatusCode != http.StatusBadRequest {
		t.Fatalf("invalid body: %d %s", r.StatusCode, r.body)
	}
	// Refused by the handler (two owners named): 422, nothing sent.
	twoOwners := newClientBody("typo")
	twoOwners["owner_login"], twoOwners["owner_id"] = "admin", 1
	k.expect(k.do("POST", "/clients", twoOwners), http.StatusUnprocessableEntity)
	// A wrong password of the caller (Plesk's 401 refuses the packet): no record either.
	wrong := h.as("admin", "wrong").with("Idempotency-Key", "typo-1")
	wrong.expect(wrong.do("POST", "/clients", newClientBody("typo")), http.StatusUnauthorized)
	r := k.expect(k.do("POST", "/clients", newClientBody("typo")), http.StatusCreated)
	if r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatal("the corrected retry was a replay")
	}
}

// Before (issue 14): service mode had one namespace for every API key, and
// rw2 was replayed rw's 201. After: records are per API key name.
func TestIdempotencyServiceModeKeysPerAPIKey(t *testing.T) {
	keys, err := NewAPIKeys([]APIKey{{Name: "rw", Scope: "write", SHA256: sha256hex("rw-key")}, {Name: "rw2", Scope: "write", SHA256: sha256hex("rw2-key")}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.AuthMode, gc.APIKeys, gc.ServiceCredentials = AuthService, keys, upstream.Credentials{Login: "admin", Password: adminPass}
	}).anonymous().with("Idempotency-Key", "shared")
	rw, rw2 := h.with("X-API-Key", "rw-key"), h.with("X-API-Key", "rw2-key")
	rw.expect(rw.do("POST", "/clients", newClientBody("svc")), http.StatusCreated)
	r := rw2.do("POST", "/clients", newClientBody("svc"))
	if r.Header.Get("Idempotent-Replayed") != "" || r.StatusCode != http.StatusConflict {
		t.Fatalf("rw2 with rw's key: %d replayed=%q %s", r.StatusCode, r.Header.Get("Idempotent-Replayed"), r.body)
	}
	if again := rw.expect(rw.do("POST", "/clients", newClientBody("svc")), http.StatusCreated); again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("rw's own retry was not replayed")
	}
}

// Before (issue 14): strangers with wrong credentials filled the stores with
// 401 records (Redis noeviction → 503 for everyone; the memory LRU evicted
// others' records). After: a refused request stores nothing, and a caller
// holds at most its quota of records (429 beyond, nothing sent), without
// touching anyone else's.
func TestIdempotencyStoreCannotBeFilledByStrangers(t *testing.T) {
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.Idempotency = store.NewMemoryIdempotencyLimited(5, 3)
		// The failed-login shield would answer 429 after ten guesses; this
		// test is about the store, so every guess reaches Plesk.
		gc.AuthFailuresPerMinute, gc.UpstreamAuthFailuresPerMinute = 100, 100
	})
	for i := range 20 {
		s := h.as("admin", fmt.Sprintf("guess-%d", i)).with("Idempotency-Key", fmt.Sprintf("k%d", i))
		s.expect(s.do("POST", "/clients", newClientBody(fmt.Sprintf("s%d", i))), http.StatusUnauthorized)
	}
	for i := range 3 {
		k := h.with("Idempotency-Key", fmt.Sprintf("mine-%d", i))
		k.expect(k.do("POST", "/clients", newClientBody(fmt.Sprintf("mine%d", i))), http.StatusCreated)
	}
	before := h.sim.Stats().Requests
	k := h.with("Idempotency-Key", "mine-over")
	r := k.expect(k.do("POST", "/clients", newClientBody("mineover")), http.StatusTooManyRequests)
	if p := r.problem(t); !strings.HasSuffix(p.Type, "idempotency-quota") || p.Title == "" {
		t.Fatalf("quota problem %+v", p)
	}
	if h.sim.Stats().Requests != before {
		t.Fatal("a request beyond the quota reached Plesk")
	}
	// Another caller still has its own quota; the first caller's records still replay.
	o := h.as("res1", resellerPass).with("Idempotency-Key", "mine-0")
	o.expect(o.do("POST", "/clients", newClientBody("other0")), http.StatusCreated)
	if r := h.with("Idempotency-Key", "mine-0").do("POST", "/clients", newClientBody("mine0")); r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a record was lost: %d", r.StatusCode)
	}
}

// The same against Redis: wrong credentials leave no key in Redis.
func TestRedisIdempotencyStrangersStoreNothing(t *testing.T) {
	r := storetest.StartRedis(t)
	a, _ := redisReplicas(t, r)
	for i := range 8 { // below the shield's budget of ten failed logins per address

		s := a.as("admin", fmt.Sprintf("guess-%d", i)).with("Idempotency-Key", fmt.Sprintf("k%d", i))
		s.expect(s.do("POST", "/clients", newClientBody(fmt.Sprintf("s%d", i))), http.StatusUnauthorized)
	}
	if keys := r.Client().Keys(context.Background(), "pleskgate:idem*").Val(); len(keys) != 0 {
		t.Fatalf("refused requests left keys in Redis: %v", keys)
	}
	k := a.with("Idempotency-Key", "legit")
	k.expect(k.do("POST", "/clients", newClientBody("legit")), http.StatusCreated)
	if n := r.Client().ZCard(context.Background(), "pleskgate:idemowner:"+upstream.Credentials{Login: "admin", Password: adminPass}.Identity(replicaSecret)).Val(); n != 1 {
		t.Fatalf("owner set has %d members, want 1", n)
	}
}

// The same against Redis: the unknown outcome is a state of the record in
// Redis, reconciled by the retry.
func TestRedisIdempotencyTimeoutAfterAddReconciles(t *testing.T) {
	rs := storetest.StartRedis(t)
	h, g := newHeldHarness(t, "<add>", 1, false, time.Second, func(_ *plesksim.Config, gc *Config) {
		gc.Cache, gc.Idempotency = newRedisStoresT(t, rs.URL())
	})
	k := h.with("Idempotency-Key", "slow-redis")
	k.expect(k.do("POST", "/clients", newClientBody("slowredis")), http.StatusGatewayTimeout)
	<-g.executed
	keys := rs.Client().Keys(context.Background(), "pleskgate:idem:*").Val()
	if len(keys) != 1 || !strings.Contains(rs.Client().Get(context.Background(), keys[0]).Val(), `"unknown":true`) {
		t.Fatalf("after the timeout: keys %v", keys)
	}
	r := k.expect(k.do("POST", "/clients", newClientBody("slowredis")), http.StatusCreated)
	if r.Header.Get("Idempotent-Reconciled") != "true" {
		t.Fatalf("retry: %v %s", r.Header, r.body)
	}
	if n, adds := len(h.sim.Clients()), addCount(h.sim); n != 1 || adds != 1 {
		t.Fatalf("clients=%d adds=%d", n, adds)
	}
}

// unrecordable is an idempotency store whose final records cannot be
// written, as when Redis refuses them (maxmemory, noeviction) after the claim.
type unrecordable struct {
	store.Idempotency
	fail atomic.Bool
}

func (u *unrecordable) Complete(ctx context.Context, owner, key string, rec store.IdempotencyRecord, ttl time.Duration) error {
	if u.fail.Load() {
		return errors.New("OOM command not allowed when used memory > 'maxmemory'")
	}
	return u.Idempotency.Complete(ctx, owner, key, rec, ttl)
}

// Before: the add's record could not be stored after the claim; the caller
// got a plain 201, and the retry got 409 idempotency-in-flight (and, once
// the claim was gone, 409 "login exists" for its own client). After: the
// answer says the outcome was not recorded (Idempotent-Recorded: false),
// the claim is left as an unknown outcome, and the retry reconciles it:
// 201 with the same client, one add at the panel.
func TestIdempotencyRecordNotStoredIsReconciled(t *testing.T) {
	idem := &unrecordable{Idempotency: store.NewMemoryIdempotency(1000, time.Hour)}
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.Idempotency = idem })
	k := h.with("Idempotency-Key", "unrecorded-1")
	idem.fail.Store(true)
	first := k.expect(k.do("POST", "/clients", newClientBody("unrecorded")), http.StatusCreated)
	if first.Header.Get("Idempotent-Recorded") != "false" {
		t.Errorf("an answer whose record was not stored: headers %v", first.Header)
	}
	idem.fail.Store(false)
	r := k.expect(k.do("POST", "/clients", newClientBody("unrecorded")), http.StatusCreated)
	if r.Header.Get("Idempotent-Reconciled") != "true" || r.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("retry: headers %v body %s; first Location %q", r.Header, r.body, first.Header.Get("Location"))
	}
	if adds := addCount(h.sim); adds != 1 {
		t.Fatalf("%d adds, want 1", adds)
	}
	k.expect(k.do("POST", "/clients", newClientBody("unrecorded")), http.StatusCreated) // now a replay
}

// Before: a replica was killed while its keyed add was at the panel; its
// claim lapsed with no record, the retry sent the add again and got 409
// "login exists" for its own client. After: the claim outlives its lease as
// an unknown outcome, and the retry on another replica reconciles it: 201
// with the same client, one add at the panel.
func TestRedisIdempotencyDeadReplicasClaimIsReconciled(t *testing.T) {
	rs := storetest.StartRedis(t)
	a, b := redisReplicas(t, rs)
	body := newClientBody("orphaned")
	data, _ := json.Marshal(body)

	// The dead replica: it claimed the key, its add reached the panel, and it
	// died before recording the outcome (its renewals stopped with it).
	_, dead, closer, err := store.NewRedis(rs.URL(), store.WithClaimLease(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	owner := upstream.Credentials{Login: "admin", Password: adminPass}.Identity(replicaSecret)
	key := idempotencyStoreKey(owner, "dead-1")
	req := httptest.NewRequest("POST", "/clients", nil)
	if _, claimed, err := dead.Begin(context.Background(), owner, key, a.gw.idempotencyFingerprint(req, data), time.Hour); err != nil || !claimed {
		t.Fatalf("dead replica's claim: %v %v", claimed, err)
	}
	created := a.expect(a.do("POST", "/clients", body), http.StatusCreated) // its add, at the panel
	_ = closer.Close()
	time.Sleep(300 * time.Millisecond) // the lease lapses

	k := b.with("Idempotency-Key", "dead-1")
	r := k.expect(k.do("POST", "/clients", body), http.StatusCreated)
	if r.Header.Get("Idempotent-Reconciled") != "true" || r.Header.Get("Location") != created.Header.Get("Location") {
		t.Fatalf("retry: headers %v body %s", r.Header, r.body)
	}
	if adds := addCount(a.sim); adds != 1 {
		t.Fatalf("%d adds, want 1", adds)
	}
}

// A client that held the login and name before the first attempt, with
// another email, is not the first attempt's: the retry after a timeout
// (the first add failed at the panel, login taken) answers 409 as the
// first attempt would have, never 201 with the other client.
func TestIdempotencyTimeoutDoesNotTakeAnotherClientWithTheSameName(t *testing.T) {
	h, g := newHeldHarness(t, "slowsame@example.com", 1, false, time.Second)
	pre := newClientBody("slowsame")
	pre["email"] = "someone.else@example.com"
	var other obj
	h.expect(h.do("POST", "/clients", pre), http.StatusCreated).json(t, &other)
	otherID := int(other["id"].(float64))
	k := h.with("Idempotency-Key", "slow-same-name")
	k.expect(k.do("POST", "/clients", newClientBody("slowsame")), http.StatusGatewayTimeout)
	<-g.executed
	r := k.expect(k.do("POST", "/clients", newClientBody("slowsame")), http.StatusConflict)
	if r.Header.Get("Location") != "" || strings.Contains(string(r.body), `"id"`) {
		t.Fatalf("retry answered with a client: headers %v body %s (the other client is %d)", r.Header, r.body, otherID)
	}
	if n := len(h.sim.Clients()); n != 1 {
		t.Fatalf("%d clients, want 1", n)
	}
}

// lateSim sits between the gateway and the simulator. The first packet
// containing match reaches the panel late: the gateway times out waiting
// for it, and it runs at the panel right before the next packet containing
// match — a retry that read the logins back before the first attempt ran,
// and then meets the first attempt's clients with its own adds.
type lateSim struct {
	sim   *plesksim.Server
	match string
	mu    sync.Mutex
	state int // 0: waiting for the first packet, 1: holding it, 2: it ran
	late  []byte
	hdr   http.Header
	ran   chan struct{} // closed when the late packet has run
}

func (g *lateSim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if !bytes.Contains(body, []byte(g.match)) {
		g.sim.ServeHTTP(w, r)
		return
	}
	g.mu.Lock()
	switch g.state {
	case 0:
		g.state, g.late, g.hdr = 1, body, r.Header.Clone()
		g.mu.Unlock()
		<-r.Context().Done() // the gateway gives up; the packet has not run yet
		return
	case 1:
		late := httptest.NewRequest("POST", plesksim.AgentPath, bytes.NewReader(g.late))
		late.Header = g.hdr
		g.sim.ServeHTTP(httptest.NewRecorder(), late)
		g.state = 2
		close(g.ran)
	}
	g.mu.Unlock()
	g.sim.ServeHTTP(w, r)
}

// newLateHarness is a harness whose upstream is a lateSim for match, with
// a 1 s upstream timeout.
func newLateHarness(t *testing.T, match string) (*harness, *lateSim) {
	g := &lateSim{match: match, ran: make(chan struct{})}
	front := httptest.NewServer(g)
	t.Cleanup(front.Close)
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.Upstream.BaseURL, gc.Upstream.Timeout = front.URL, time.Second
	})
	g.sim = h.sim
	h.expect(h.do("GET", "/meta", nil), http.StatusOK) // protocol discovery first
	return h, g
}

// The first attempt's add reaches the panel after the retry read the login
// back and found nothing, right before the retry's own add: that add fails
// (login taken) and the client the same packet's get reads, which carries
// every field sent, is the first attempt's — 201 reconciled, not 409, and
// one client.
func TestIdempotencyRetryMeetsItsFirstAttemptLate(t *testing.T) {
	h, g := newLateHarness(t, "<add>")
	k := h.with("Idempotency-Key", "late-1")
	k.expect(k.do("POST", "/clients", newClientBody("lateadd")), http.StatusGatewayTimeout)
	r := k.expect(k.do("POST", "/clients", newClientBody("lateadd")), http.StatusCreated)
	<-g.ran
	cls := h.sim.Clients()
	if len(cls) != 1 || r.Header.Get("Location") != "/clients/"+strconv.Itoa(cls[0].ID) || r.Header.Get("Idempotent-Reconciled") != "true" {
		t.Fatalf("retry: headers %v body %s; sim has %+v", r.Header, r.body, cls)
	}
}

package gateway

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/gateway/store/storetest"
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

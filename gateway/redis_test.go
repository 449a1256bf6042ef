package gateway

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pleskgate/pleskgate/plesksim"
)

// These tests run against a real redis-server (Debian package redis-server;
// `make deps` installs it). Without the binary they skip, unless
// PLESKGATE_REQUIRE_REDIS=1 (CI), where they fail.

// redisServer is a throwaway redis-server on a loopback port: no persistence,
// killed at the end of the test.
type redisServer struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("PLESKGATE_REQUIRE_REDIS") == "1" {
			t.Fatalf("redis-server not found in PATH but PLESKGATE_REQUIRE_REDIS=1: install it (Debian: apt-get install -y redis-server, or `make deps`)")
		}
		t.Skip("redis-server not installed (apt-get install -y redis-server); set PLESKGATE_REQUIRE_REDIS=1 to make this a failure")
	}
	r := &redisServer{t: t, bin: bin, dir: t.TempDir()}
	var lastErr error
	for range 5 { // a free port can be taken between choosing and binding it
		r.port = freePort(t)
		if lastErr = r.start(); lastErr == nil {
			t.Cleanup(r.kill)
			return r
		}
	}
	t.Fatalf("starting redis-server: %v", lastErr)
	return nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs redis-server on r.port and waits until it answers PING.
func (r *redisServer) start() error {
	logFile := filepath.Join(r.dir, "redis.log")
	cmd := exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--logfile", logFile, "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	r.cmd, r.done = cmd, done
	rdb := redis.NewClient(&redis.Options{Addr: r.addr(), DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-done:
			log, _ := os.ReadFile(logFile)
			return fmt.Errorf("redis-server exited on port %d:\n%s", r.port, log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			r.kill()
			return fmt.Errorf("redis-server on port %d not answering: %v", r.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the server at once (SIGKILL: no chance to say goodbye to clients).
func (r *redisServer) kill() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

func (r *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// url is what the gateway is configured with. The timeouts are raised from
// the 500ms defaults: on a loaded CI machine (and under -race) a live Redis
// can take that long to answer; a killed one is refused at once anyway.
func (r *redisServer) url() string {
	return "redis://" + r.addr() + "/0?dial_timeout=5s&read_timeout=5s&write_timeout=5s"
}

// client is a direct connection for inspecting what the gateway stored.
func (r *redisServer) client() *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: r.addr()})
	r.t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// newRedisStoresT builds the stores from url, closed at the end of the test.
func newRedisStoresT(t *testing.T, url string) (CacheStore, IdempotencyStore) {
	t.Helper()
	cache, idem, closer, err := NewRedisStores(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closer.Close() })
	return cache, idem
}

// redisReplicas is two gateways (two "replicas") in front of one plesksim,
// each with its own connection to the same Redis. a is a full harness; b is
// a copy of it that sends its requests to the second gateway.
func redisReplicas(t *testing.T, r *redisServer) (a, b *harness) {
	t.Helper()
	a = newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.Cache, gc.Idempotency = newRedisStoresT(t, r.url())
	})
	cache, idem := newRedisStoresT(t, r.url())
	gwB, err := New(Config{
		Upstream:      NewUpstream(UpstreamConfig{BaseURL: a.simSrv.URL, Timeout: 5 * time.Second}),
		DescriptorTTL: time.Minute,
		Cache:         cache,
		Idempotency:   idem,
	})
	if err != nil {
		t.Fatal(err)
	}
	srvB := httptest.NewServer(gwB.Handler())
	t.Cleanup(srvB.Close)
	bb := *a
	bb.gw, bb.srv = gwB, srvB
	b = &bb
	// Protocol discovery on both, so that the counts below are only the work under test.
	a.expect(a.do("GET", "/meta", nil), http.StatusOK)
	b.expect(b.do("GET", "/meta", nil), http.StatusOK)
	a.sim.ResetStats()
	return a, b
}

func TestRedisReplicasShareDescriptorCache(t *testing.T) {
	r := startRedis(t)
	a, b := redisReplicas(t, r)

	first := a.expect(a.do("GET", "/descriptors/limits", nil), http.StatusOK)
	if cs := first.Header.Get("Cache-Status"); !strings.HasPrefix(cs, "pleskgate; fwd=miss; stored") {
		t.Fatalf("first read: Cache-Status %q", cs)
	}
	second := b.expect(b.do("GET", "/descriptors/limits", nil), http.StatusOK)
	if cs := second.Header.Get("Cache-Status"); !strings.HasPrefix(cs, "pleskgate; hit") {
		t.Fatalf("read on the other replica: Cache-Status %q, want a hit", cs)
	}
	if string(second.body) != string(first.body) || second.Header.Get("ETag") != first.Header.Get("ETag") {
		t.Fatal("the replicas serve different descriptors")
	}
	if got := a.sim.Stats().Operations["client/get-limit-descriptor"]; got != 1 {
		t.Fatalf("two replicas cost %d get-limit-descriptor packets, want 1", got)
	}
	// Another caller's rights are another entry, on either replica.
	b.expect(b.as("res1", resellerPass).do("GET", "/descriptors/limits", nil), http.StatusOK)
	if got := a.sim.Stats().Operations["client/get-limit-descriptor"]; got != 2 {
		t.Fatalf("a second caller was served from the first caller's entry (%d packets)", got)
	}

	// What is in Redis: prefixed keys that expire with the descriptor TTL.
	rdb := r.client()
	keys, err := rdb.Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("keys %v, want 2 descriptor entries", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "pleskgate:descriptor:") {
			t.Fatalf("key %q lacks the pleskgate:descriptor: prefix", k)
		}
		if ttl := rdb.PTTL(context.Background(), k).Val(); ttl <= 0 || ttl > time.Minute {
			t.Fatalf("key %q has TTL %v, want at most the 1m descriptor TTL", k, ttl)
		}
	}
}

func TestRedisReplicasShareIdempotencyKeys(t *testing.T) {
	r := startRedis(t)
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
	rdb := r.client()
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
	r := startRedis(t)
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
	r := startRedis(t)
	a, b := redisReplicas(t, r)
	a.expect(a.do("GET", "/descriptors/limits", nil), http.StatusOK)

	r.kill()

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
	if err := r.start(); err != nil {
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

// TestRedisIdempotencyStoreClaims checks the store's claim protocol directly,
// with a short lease.
func TestRedisIdempotencyStoreClaims(t *testing.T) {
	r := startRedis(t)
	// Renewed every ~670ms: the claim survives a loaded machine's stalls of over a second.
	const lease = 2 * time.Second
	newStore := func() *redisStore {
		s := newRedisStore(redis.NewClient(&redis.Options{Addr: r.addr(), ReadTimeout: 5 * time.Second}), lease)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := newStore(), newStore()
	ctx := context.Background()
	rdb := r.client()
	const ttl = time.Hour

	// A claims; B sees the claim in flight, even after several leases (A renews it).
	if _, claimed, err := a.Begin(ctx, "pleskgate:idem:t:k1", "fp1", ttl); err != nil || !claimed {
		t.Fatalf("first Begin: claimed=%v err=%v", claimed, err)
	}
	time.Sleep(9 * lease / 4)
	rec, claimed, err := b.Begin(ctx, "pleskgate:idem:t:k1", "fp1", ttl)
	if err != nil || claimed || rec.Done || rec.Fingerprint != "fp1" {
		t.Fatalf("Begin on a renewed claim: rec=%+v claimed=%v err=%v", rec, claimed, err)
	}
	if pttl := rdb.PTTL(ctx, "pleskgate:idem:t:k1").Val(); pttl > lease {
		t.Fatalf("in-flight claim lives %v, want at most the %v lease", pttl, lease)
	}
	// A completes: B replays the record, kept for the full TTL.
	done := IdempotencyRecord{Fingerprint: "fp1", Done: true, Status: 201, Header: map[string][]string{"Content-Type": {"application/json"}}, Body: []byte(`{"id":1}`)}
	if err := a.Complete(ctx, "pleskgate:idem:t:k1", done, ttl); err != nil {
		t.Fatal(err)
	}
	rec, claimed, err = b.Begin(ctx, "pleskgate:idem:t:k1", "fp1", ttl)
	if err != nil || claimed || !rec.Done || rec.Status != 201 || string(rec.Body) != `{"id":1}` || rec.Header["Content-Type"][0] != "application/json" {
		t.Fatalf("Begin on a completed key: rec=%+v claimed=%v err=%v", rec, claimed, err)
	}
	if pttl := rdb.PTTL(ctx, "pleskgate:idem:t:k1").Val(); pttl < ttl-time.Minute {
		t.Fatalf("completed record lives %v, want %v", pttl, ttl)
	}
	// Releasing a completed key (or one never claimed here) deletes nothing.
	if err := a.Release(ctx, "pleskgate:idem:t:k1"); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(ctx, "pleskgate:idem:t:k1"); err != nil {
		t.Fatal(err)
	}
	if n := rdb.Exists(ctx, "pleskgate:idem:t:k1").Val(); n != 1 {
		t.Fatal("Release deleted a completed record")
	}

	// Release frees a claimed key for the next request.
	if _, claimed, _ := a.Begin(ctx, "pleskgate:idem:t:k2", "fp2", ttl); !claimed {
		t.Fatal("k2 not claimed")
	}
	if err := a.Release(ctx, "pleskgate:idem:t:k2"); err != nil {
		t.Fatal(err)
	}
	if _, claimed, _ := b.Begin(ctx, "pleskgate:idem:t:k2", "fp2", ttl); !claimed {
		t.Fatal("a released key could not be claimed again")
	}

	// A replica that stops renewing (crashed, or cut off from Redis) loses its
	// claim after the lease; the next request claims the key, and the stale
	// replica can neither overwrite nor delete the new claim.
	if _, claimed, _ := a.Begin(ctx, "pleskgate:idem:t:k3", "fp3", ttl); !claimed {
		t.Fatal("k3 not claimed")
	}
	a.mu.Lock()
	close(a.claims["pleskgate:idem:t:k3"].stop) // stop the renewal, keep the claim
	a.claims["pleskgate:idem:t:k3"].stop = make(chan struct{})
	a.mu.Unlock()
	time.Sleep(lease + 300*time.Millisecond)
	if _, claimed, _ := b.Begin(ctx, "pleskgate:idem:t:k3", "fp3", ttl); !claimed {
		t.Fatal("a lapsed claim was not taken over")
	}
	if err := a.Complete(ctx, "pleskgate:idem:t:k3", IdempotencyRecord{Fingerprint: "fp3", Done: true, Status: 201}, ttl); err == nil {
		t.Fatal("a stale replica completed over another request's claim")
	}
	if rec, _, _ := a.Begin(ctx, "pleskgate:idem:t:k3", "fp3", ttl); rec.Done {
		t.Fatal("the stale replica's record replaced the live claim")
	}
	if err := b.Complete(ctx, "pleskgate:idem:t:k3", IdempotencyRecord{Fingerprint: "fp3", Done: true, Status: 202}, ttl); err != nil {
		t.Fatalf("the live claim could not complete: %v", err)
	}
	if rec, _, _ := a.Begin(ctx, "pleskgate:idem:t:k3", "fp3", ttl); !rec.Done || rec.Status != 202 {
		t.Fatalf("record %+v, want the live request's 202", rec)
	}

	// A claim never outlives the idempotency TTL, however short.
	if _, claimed, _ := a.Begin(ctx, "pleskgate:idem:t:k4", "fp4", 100*time.Millisecond); !claimed {
		t.Fatal("k4 not claimed")
	}
	if pttl := rdb.PTTL(ctx, "pleskgate:idem:t:k4").Val(); pttl > 100*time.Millisecond {
		t.Fatalf("claim lives %v, longer than its 100ms TTL", pttl)
	}
}

func TestRedisCacheStore(t *testing.T) {
	r := startRedis(t)
	cache, _ := newRedisStoresT(t, r.url())
	ctx := context.Background()
	if _, ok, err := cache.Get(ctx, "pleskgate:descriptor:x"); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	now := time.Now().Truncate(time.Millisecond)
	e := CacheEntry{Body: []byte(`{"a":1}`), ETag: `"e"`, StoredAt: now, Expires: now.Add(time.Minute)}
	if err := cache.Set(ctx, "pleskgate:descriptor:x", e, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, ok, err := cache.Get(ctx, "pleskgate:descriptor:x")
	if err != nil || !ok || string(got.Body) != `{"a":1}` || got.ETag != `"e"` || !got.Expires.Equal(e.Expires) {
		t.Fatalf("got %+v ok=%v err=%v", got, ok, err)
	}
	// Keys without the prefix get it.
	if err := cache.Set(ctx, "bare", e, time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := r.client().Exists(ctx, "pleskgate:bare").Val(); n != 1 {
		t.Fatal("key not prefixed with pleskgate:")
	}
	// A value that is not a cache entry is a miss (the refetch overwrites it), not an error.
	r.client().Set(ctx, "pleskgate:descriptor:junk", "not json", time.Minute)
	if _, ok, err := cache.Get(ctx, "pleskgate:descriptor:junk"); ok || err != nil {
		t.Fatalf("junk value: ok=%v err=%v", ok, err)
	}
}

// TestRedisUnreachableFailsFast: nothing listens on the port; every call
// must report an error quickly rather than hang a request.
func TestRedisUnreachableFailsFast(t *testing.T) {
	if _, _, _, err := NewRedisStores("http://not-redis"); err == nil {
		t.Fatal("a non-redis URL was accepted")
	}
	if _, _, _, err := NewRedisStores("redis://:hunter2@redis:port/0"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("bad URL: error %v (must exist and not show the password)", err)
	}
	cache, idem := newRedisStoresT(t, fmt.Sprintf("redis://127.0.0.1:%d/0", freePort(t)))
	ctx := context.Background()
	start := time.Now()
	if _, _, err := cache.Get(ctx, "k"); err == nil {
		t.Fatal("Get on a dead Redis: no error")
	}
	if err := cache.Set(ctx, "k", CacheEntry{}, time.Minute); err == nil {
		t.Fatal("Set on a dead Redis: no error")
	}
	if _, _, err := idem.Begin(ctx, "k", "fp", time.Hour); err == nil {
		t.Fatal("Begin on a dead Redis: no error")
	}
	if d := time.Since(start); d > 5*time.Second { // ~ms when refused; the bound allows for a loaded machine
		t.Fatalf("three calls to a dead Redis took %v", d)
	}
}

func TestRedisLoggerToZap(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	SetRedisLogger(zap.New(core))
	cache, _ := newRedisStoresT(t, fmt.Sprintf("redis://127.0.0.1:%d/0", freePort(t)))
	_, _, _ = cache.Get(context.Background(), "k")
	entries := logs.FilterMessageSnippet("failed to dial").All()
	if len(entries) == 0 {
		t.Fatalf("no dial failure logged through zap; got %v", logs.All())
	}
	if entries[0].LoggerName != "redis" {
		t.Fatalf("logger name %q", entries[0].LoggerName)
	}
}

// TestRedisCloseStopsGoroutines: Close ends the lease renewals and the client.
func TestRedisCloseStopsGoroutines(t *testing.T) {
	r := startRedis(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	_, idem, closer, err := NewRedisStores(r.url())
	if err != nil {
		t.Fatal(err)
	}
	if _, claimed, err := idem.Begin(context.Background(), "pleskgate:idem:t:held", "fp", time.Hour); err != nil || !claimed {
		t.Fatalf("claimed=%v err=%v", claimed, err)
	}
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
}

package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/pleskgate/pleskgate/gateway/store/storetest"
)

// These tests run against a real redis-server (storetest.StartRedis).

// newRedisT builds the stores from url, closed at the end of the test.
func newRedisT(t *testing.T, url string) (Cache, Idempotency) {
	t.Helper()
	cache, idem, closer, err := NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closer.Close() })
	return cache, idem
}

// TestRedisIdempotencyStoreClaims checks the store's claim protocol directly,
// with a short lease.
func TestRedisIdempotencyStoreClaims(t *testing.T) {
	r := storetest.StartRedis(t)
	// Renewed every ~670ms: the claim survives a loaded machine's stalls of over a second.
	const lease = 2 * time.Second
	newStore := func() *redisStore {
		s := newRedisStore(redis.NewClient(&redis.Options{Addr: r.Addr(), ReadTimeout: 5 * time.Second}), lease)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := newStore(), newStore()
	ctx := context.Background()
	rdb := r.Client()
	const ttl = time.Hour

	// A claims; B sees the claim in flight, even after several leases (A renews it).
	if _, claimed, err := a.Begin(ctx, "t", "pleskgate:idem:t:k1", "fp1", ttl); err != nil || !claimed {
		t.Fatalf("first Begin: claimed=%v err=%v", claimed, err)
	}
	time.Sleep(9 * lease / 4)
	rec, claimed, err := b.Begin(ctx, "t", "pleskgate:idem:t:k1", "fp1", ttl)
	if err != nil || claimed || rec.Done || rec.Fingerprint != "fp1" {
		t.Fatalf("Begin on a renewed claim: rec=%+v claimed=%v err=%v", rec, claimed, err)
	}
	if pttl := rdb.PTTL(ctx, "pleskgate:idemlease:idem:t:k1").Val(); pttl <= 0 || pttl > lease {
		t.Fatalf("in-flight claim's lease lives %v, want at most the %v lease", pttl, lease)
	}
	if pttl := rdb.PTTL(ctx, "pleskgate:idem:t:k1").Val(); pttl < ttl-time.Minute {
		t.Fatalf("in-flight claim lives %v, want as long as a record (%v): a lapsed one is an unknown outcome", pttl, ttl)
	}
	// A completes: B replays the record, kept for the full TTL.
	done := IdempotencyRecord{Fingerprint: "fp1", Done: true, Status: 201, Header: map[string][]string{"Content-Type": {"application/json"}}, Body: []byte(`{"id":1}`)}
	if err := a.Complete(ctx, "t", "pleskgate:idem:t:k1", done, ttl); err != nil {
		t.Fatal(err)
	}
	rec, claimed, err = b.Begin(ctx, "t", "pleskgate:idem:t:k1", "fp1", ttl)
	if err != nil || claimed || !rec.Done || rec.Status != 201 || string(rec.Body) != `{"id":1}` || rec.Header["Content-Type"][0] != "application/json" {
		t.Fatalf("Begin on a completed key: rec=%+v claimed=%v err=%v", rec, claimed, err)
	}
	if pttl := rdb.PTTL(ctx, "pleskgate:idem:t:k1").Val(); pttl < ttl-time.Minute {
		t.Fatalf("completed record lives %v, want %v", pttl, ttl)
	}
	// Releasing a completed key (or one never claimed here) deletes nothing.
	if err := a.Release(ctx, "t", "pleskgate:idem:t:k1"); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(ctx, "t", "pleskgate:idem:t:k1"); err != nil {
		t.Fatal(err)
	}
	if n := rdb.Exists(ctx, "pleskgate:idem:t:k1").Val(); n != 1 {
		t.Fatal("Release deleted a completed record")
	}

	// Release frees a claimed key for the next request.
	if _, claimed, _ := a.Begin(ctx, "t", "pleskgate:idem:t:k2", "fp2", ttl); !claimed {
		t.Fatal("k2 not claimed")
	}
	if err := a.Release(ctx, "t", "pleskgate:idem:t:k2"); err != nil {
		t.Fatal(err)
	}
	if _, claimed, _ := b.Begin(ctx, "t", "pleskgate:idem:t:k2", "fp2", ttl); !claimed {
		t.Fatal("a released key could not be claimed again")
	}

	// A replica that stops renewing (crashed, or cut off from Redis) loses its
	// claim after the lease; the next request with the same body claims the
	// key as an unknown outcome (to reconcile, never to run as new), another
	// body is still refused, and the stale replica can neither overwrite nor
	// delete the new claim.
	if _, claimed, _ := a.Begin(ctx, "t", "pleskgate:idem:t:k3", "fp3", ttl); !claimed {
		t.Fatal("k3 not claimed")
	}
	a.mu.Lock()
	close(a.claims["pleskgate:idem:t:k3"].stop) // stop the renewal, keep the claim
	a.claims["pleskgate:idem:t:k3"].stop = make(chan struct{})
	a.mu.Unlock()
	time.Sleep(lease + 300*time.Millisecond)
	if rec, claimed, _ := b.Begin(ctx, "t", "pleskgate:idem:t:k3", "other", ttl); claimed || rec.Fingerprint != "fp3" {
		t.Fatalf("another body took a lapsed claim: %+v claimed=%v", rec, claimed)
	}
	if rec, claimed, _ := b.Begin(ctx, "t", "pleskgate:idem:t:k3", "fp3", ttl); !claimed || !rec.Done || !rec.Unknown {
		t.Fatalf("a lapsed claim was not taken over as an unknown outcome: %+v claimed=%v", rec, claimed)
	}
	if err := a.Complete(ctx, "t", "pleskgate:idem:t:k3", IdempotencyRecord{Fingerprint: "fp3", Done: true, Status: 201}, ttl); err == nil {
		t.Fatal("a stale replica completed over another request's claim")
	}
	if rec, _, _ := a.Begin(ctx, "t", "pleskgate:idem:t:k3", "fp3", ttl); rec.Done {
		t.Fatal("the stale replica's record replaced the live claim")
	}
	if err := b.Complete(ctx, "t", "pleskgate:idem:t:k3", IdempotencyRecord{Fingerprint: "fp3", Done: true, Status: 202}, ttl); err != nil {
		t.Fatalf("the live claim could not complete: %v", err)
	}
	if rec, _, _ := a.Begin(ctx, "t", "pleskgate:idem:t:k3", "fp3", ttl); !rec.Done || rec.Status != 202 {
		t.Fatalf("record %+v, want the live request's 202", rec)
	}

	// A claim never outlives the idempotency TTL, however short.
	if _, claimed, _ := a.Begin(ctx, "t", "pleskgate:idem:t:k4", "fp4", 100*time.Millisecond); !claimed {
		t.Fatal("k4 not claimed")
	}
	if pttl := rdb.PTTL(ctx, "pleskgate:idem:t:k4").Val(); pttl > 100*time.Millisecond {
		t.Fatalf("claim lives %v, longer than its 100ms TTL", pttl)
	}
}

func TestRedisCacheStore(t *testing.T) {
	r := storetest.StartRedis(t)
	cache, _ := newRedisT(t, r.URL())
	ctx := context.Background()
	if _, ok, err := cache.Get(ctx, "pleskgate:descriptor:x"); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	now := time.Now().Truncate(time.Millisecond)
	e := Entry{Body: []byte(`{"a":1}`), ETag: `"e"`, StoredAt: now, Expires: now.Add(time.Minute)}
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
	if n := r.Client().Exists(ctx, "pleskgate:bare").Val(); n != 1 {
		t.Fatal("key not prefixed with pleskgate:")
	}
	// A value that is not a cache entry is a miss (the refetch overwrites it), not an error.
	r.Client().Set(ctx, "pleskgate:descriptor:junk", "not json", time.Minute)
	if _, ok, err := cache.Get(ctx, "pleskgate:descriptor:junk"); ok || err != nil {
		t.Fatalf("junk value: ok=%v err=%v", ok, err)
	}
}

// TestRedisUnreachableFailsFast: nothing listens on the port; every call
// must report an error quickly rather than hang a request.
func TestRedisUnreachableFailsFast(t *testing.T) {
	if _, _, _, err := NewRedis("http://not-redis"); err == nil {
		t.Fatal("a non-redis URL was accepted")
	}
	if _, _, _, err := NewRedis("redis://:hunter2@redis:port/0"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("bad URL: error %v (must exist and not show the password)", err)
	}
	cache, idem := newRedisT(t, fmt.Sprintf("redis://127.0.0.1:%d/0", storetest.FreePort(t)))
	ctx := context.Background()
	start := time.Now()
	if _, _, err := cache.Get(ctx, "k"); err == nil {
		t.Fatal("Get on a dead Redis: no error")
	}
	if err := cache.Set(ctx, "k", Entry{}, time.Minute); err == nil {
		t.Fatal("Set on a dead Redis: no error")
	}
	if _, _, err := idem.Begin(ctx, "t", "k", "fp", time.Hour); err == nil {
		t.Fatal("Begin on a dead Redis: no error")
	}
	if d := time.Since(start); d > 5*time.Second { // ~ms when refused; the bound allows for a loaded machine
		t.Fatalf("three calls to a dead Redis took %v", d)
	}
}

func TestSetRedisLogger(t *testing.T) {
	var mu sync.Mutex
	var got []string
	SetRedisLogger(func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, msg)
	})
	t.Cleanup(func() { SetRedisLogger(func(string) {}) })
	cache, _ := newRedisT(t, fmt.Sprintf("redis://127.0.0.1:%d/0", storetest.FreePort(t)))
	_, _, _ = cache.Get(context.Background(), "k")
	mu.Lock()
	defer mu.Unlock()
	for _, m := range got {
		if strings.Contains(m, "failed to dial") {
			return
		}
	}
	t.Fatalf("no dial failure logged through the function; got %q", got)
}

// TestRedisCloseStopsGoroutines: Close ends the lease renewals and the client.
func TestRedisCloseStopsGoroutines(t *testing.T) {
	r := storetest.StartRedis(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	_, idem, closer, err := NewRedis(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, claimed, err := idem.Begin(context.Background(), "t", "pleskgate:idem:t:held", "fp", time.Hour); err != nil || !claimed {
		t.Fatalf("claimed=%v err=%v", claimed, err)
	}
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRedisIdempotencyRecordRefusedIsUnknown: Redis refuses the final record
// (maxmemory with noeviction) after the claim. Complete fails and leaves the
// claim held; the caller's Abandon (the gateway's) leaves it as an unknown
// outcome at once (ending a lease only deletes, which a full Redis still
// does): the retry with the same body reconciles it, instead of waiting out
// the lease and then running as new. Before, Complete abandoned the claim
// itself and the gateway's Abandon found nothing: two mechanisms, one idle.
func TestRedisIdempotencyRecordRefusedIsUnknown(t *testing.T) {
	r := storetest.StartRedis(t)
	s := newRedisStore(redis.NewClient(&redis.Options{Addr: r.Addr(), ReadTimeout: 5 * time.Second}), time.Minute)
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	rdb := r.Client()
	if _, claimed, err := s.Begin(ctx, "t", "pleskgate:idem:t:oom", "fp", time.Hour); err != nil || !claimed {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	rdb.ConfigSet(ctx, "maxmemory-policy", "noeviction")
	rdb.ConfigSet(ctx, "maxmemory", "1")
	done := IdempotencyRecord{Fingerprint: "fp", Done: true, Status: 201, Body: []byte(strings.Repeat("x", 4096))}
	err := s.Complete(ctx, "t", "pleskgate:idem:t:oom", done, time.Hour)
	if err == nil || !strings.Contains(err.Error(), "OOM") {
		t.Fatalf("Complete on a full Redis: %v, want its OOM error", err)
	}
	rdb.ConfigSet(ctx, "maxmemory", "0")
	// The failed Complete decided nothing: the claim is still in flight
	// until its caller abandons it (the gateway does, at once).
	if rec, claimed, err := s.Begin(ctx, "t", "pleskgate:idem:t:oom", "fp", time.Hour); err != nil || claimed || rec.Done {
		t.Fatalf("before Abandon: %+v claimed=%v err=%v, want the claim still in flight", rec, claimed, err)
	}
	rdb.ConfigSet(ctx, "maxmemory", "1")
	if err := s.Abandon(ctx, "t", "pleskgate:idem:t:oom"); err != nil {
		t.Fatalf("Abandon on a full Redis: %v (it only deletes)", err)
	}
	rdb.ConfigSet(ctx, "maxmemory", "0")
	rec, claimed, err := s.Begin(ctx, "t", "pleskgate:idem:t:oom", "fp", time.Hour)
	if err != nil || !claimed || !rec.Unknown {
		t.Fatalf("retry after the refused record: %+v claimed=%v err=%v, want an unknown outcome to reconcile", rec, claimed, err)
	}
}

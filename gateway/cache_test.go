package gateway

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/gateway/store/storetest"
)

func TestRedisReplicasShareDescriptorCache(t *testing.T) {
	r := storetest.StartRedis(t)
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
	rdb := r.Client()
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

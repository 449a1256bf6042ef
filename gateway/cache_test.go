package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/gateway/store/storetest"
	"github.com/pleskgate/pleskgate/gateway/upstream"
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

// TestStateSecretKeysIdentities: a caller's identity in Redis is an HMAC
// under the state secret (DESIGN.md §5). The plain hash of the credentials,
// which anyone reading Redis could test passwords against, appears nowhere;
// and a gateway with another secret finds none of the entries.
func TestStateSecretKeysIdentities(t *testing.T) {
	r := storetest.StartRedis(t)
	a, _ := redisReplicas(t, r)
	a.expect(a.do("GET", "/descriptors/limits", nil), http.StatusOK)

	keys, err := r.Client().Keys(context.Background(), "pleskgate:descriptor:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v (%v), want one descriptor entry", keys, err)
	}
	plain := sha256.Sum256([]byte("pw\x00admin\x00" + adminPass))
	creds := upstream.Credentials{Login: "admin", Password: adminPass}
	if strings.Contains(keys[0], hex.EncodeToString(plain[:16])) {
		t.Fatalf("key %q holds the unsalted hash of the credentials", keys[0])
	}
	if want := creds.Identity(replicaSecret); !strings.Contains(keys[0], want) {
		t.Fatalf("key %q does not hold the HMAC identity %s", keys[0], want)
	}
	if creds.Identity([]byte("another-secret-another-secret-xx")) == creds.Identity(replicaSecret) {
		t.Fatal("the identity does not depend on the secret")
	}

	// A gateway with its own secret shares the Redis but none of the entries.
	cache, idem := newRedisStoresT(t, r.URL())
	c := a.beside(Config{Upstream: upstream.Config{BaseURL: a.simSrv.URL, Timeout: 5 * time.Second},
		Cache: cache, Idempotency: idem, StateSecret: []byte("another-secret-another-secret-xx")})
	got := c.expect(c.do("GET", "/descriptors/limits", nil), http.StatusOK)
	if cs := got.Header.Get("Cache-Status"); !strings.HasPrefix(cs, "pleskgate; fwd=miss") {
		t.Fatalf("a gateway with another secret: Cache-Status %q, want a miss", cs)
	}
}

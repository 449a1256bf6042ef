package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/gateway/store/storetest"
)

// snapshotsBound checks what both implementations promise: an owner holds
// at most perOwner snapshots, a new one beyond drops its oldest, and another
// owner's are untouched.
func snapshotsBound(t *testing.T, s Snapshots) {
	ctx := context.Background()
	e := Entry{Body: []byte{1}, Expires: time.Now().Add(time.Minute)}
	if err := s.Put(ctx, "b", "pleskgate:listing:b0", e, time.Minute); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := s.Put(ctx, "a", fmt.Sprintf("pleskgate:listing:a%d", i), e, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	for key, want := range map[string]bool{"pleskgate:listing:a0": false, "pleskgate:listing:a1": false, "pleskgate:listing:a2": true, "pleskgate:listing:a3": true, "pleskgate:listing:b0": true} {
		if _, ok, err := s.Get(ctx, key); err != nil || ok != want {
			t.Errorf("%s: found=%v err=%v, want found=%v", key, ok, err, want)
		}
	}
}

func TestMemorySnapshotsBoundedPerOwner(t *testing.T) {
	snapshotsBound(t, NewSnapshots(NewMemoryCache(100, time.Minute), 2))
}

func TestRedisSnapshotsBoundedPerOwner(t *testing.T) {
	r := storetest.StartRedis(t)
	cache, _ := newRedisT(t, r.URL())
	snapshotsBound(t, NewSnapshots(cache, 2))
}

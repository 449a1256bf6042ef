package store

import (
	"context"
	"testing"
	"time"
)

// TestMemoryCache: an entry is found until its Expires, then it is a miss;
// the LRU keeps at most size entries.
func TestMemoryCache(t *testing.T) {
	ctx := context.Background()
	c := NewMemoryCache(2, time.Minute)
	now := time.Now()
	if err := c.Set(ctx, "a", Entry{Body: []byte("A"), Expires: now.Add(time.Minute)}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if e, ok, err := c.Get(ctx, "a"); !ok || err != nil || string(e.Body) != "A" {
		t.Fatalf("a: %+v %v %v", e, ok, err)
	}
	_ = c.Set(ctx, "old", Entry{Body: []byte("O"), Expires: now.Add(-time.Second)}, time.Minute)
	if _, ok, _ := c.Get(ctx, "old"); ok {
		t.Fatal("an expired entry was found")
	}
	_ = c.Set(ctx, "b", Entry{Expires: now.Add(time.Minute)}, time.Minute)
	_ = c.Set(ctx, "c", Entry{Expires: now.Add(time.Minute)}, time.Minute)
	if _, ok, _ := c.Get(ctx, "a"); ok {
		t.Fatal("a store of size 2 kept a third entry")
	}
}

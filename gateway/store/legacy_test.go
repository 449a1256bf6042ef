package store

import (
	"context"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/gateway/store/storetest"
)

// testLegacyStore checks what every LegacyStore must do.
func testLegacyStore(t *testing.T, s LegacyStore) {
	t.Helper()
	ctx := context.Background()
	if _, ok, err := s.Get(ctx, "up1"); err != nil || ok {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	learned := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := LegacyRecord{Version: "1.6.0.2", Operation: "ippool_add_ip", Code: 1014, Text: "Element 'client': This element is not expected.",
		LearnedAt: learned, Until: time.Now().Add(time.Hour)}
	if err := s.Put(ctx, "up1", r); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Get(ctx, "up1")
	if err != nil || !ok {
		t.Fatalf("after Put: ok=%v err=%v", ok, err)
	}
	if got.Version != r.Version || got.Operation != r.Operation || got.Code != r.Code || got.Text != r.Text ||
		!got.LearnedAt.Equal(r.LearnedAt) || !got.Until.Equal(r.Until) {
		t.Fatalf("record changed in the store: got %+v, want %+v", got, r)
	}
	if _, ok, _ := s.Get(ctx, "up2"); ok {
		t.Fatal("another upstream sees up1's record")
	}
	r2 := r
	r2.Code, r2.Text = 1005, "XML API version not supported."
	if err := s.Put(ctx, "up1", r2); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Get(ctx, "up1"); got.Code != 1005 {
		t.Fatalf("Put did not replace the record: %+v", got)
	}
	if err := s.Put(ctx, "up2", r); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "up2"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Get(ctx, "up2"); ok || err != nil {
		t.Fatalf("after Delete: ok=%v err=%v", ok, err)
	}
	if _, ok, _ := s.Get(ctx, "up1"); !ok {
		t.Fatal("Delete of up2 removed up1")
	}
}

func TestMemoryLegacyStore(t *testing.T) { testLegacyStore(t, NewMemoryLegacyStore()) }

func TestRedisLegacyStore(t *testing.T) {
	r := storetest.StartRedis(t)
	_, idem, closer, err := NewRedis(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	s, ok := RedisLegacyStoreFor(idem)
	if !ok {
		t.Fatal("RedisLegacyStoreFor refused NewRedis' store")
	}
	testLegacyStore(t, s)
	// The key expires after Until (a minute's grace), so old records go away.
	ttl, err := r.Client().TTL(context.Background(), legacyRedisKey("up1")).Result()
	if err != nil || ttl <= time.Hour || ttl > time.Hour+2*time.Minute {
		t.Fatalf("TTL of the record = %v, %v; want about an hour and a minute", ttl, err)
	}
	// Garbage in the key reads as absent.
	if err := r.Client().Set(context.Background(), legacyRedisKey("up3"), "not json", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Get(context.Background(), "up3"); ok || err != nil {
		t.Fatalf("garbage record: ok=%v err=%v", ok, err)
	}
	if _, ok := RedisLegacyStoreFor(NewMemoryIdempotency(1, time.Minute)); ok {
		t.Fatal("RedisLegacyStoreFor accepted a memory store")
	}
	// A Redis that is down is an error, not an absent record.
	r.Kill()
	if _, _, err := s.Get(context.Background(), "up1"); err == nil {
		t.Fatal("Get against a dead Redis reported no error")
	}
}

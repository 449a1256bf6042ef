package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pleskgate/pleskgate/gateway/store/storetest"
)

// TestMemoryIdempotency: the first Begin claims a key, later ones get the
// record (in flight, then done); Release frees the key for a new claim.
func TestMemoryIdempotency(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryIdempotency(10, time.Hour)
	if _, claimed, err := s.Begin(ctx, "t", "k", "fp", time.Hour); !claimed || err != nil {
		t.Fatalf("first Begin: claimed=%v err=%v", claimed, err)
	}
	rec, claimed, _ := s.Begin(ctx, "t", "k", "fp2", time.Hour)
	if claimed || rec.Fingerprint != "fp" || rec.Done {
		t.Fatalf("second Begin while in flight: %+v claimed=%v", rec, claimed)
	}
	done := IdempotencyRecord{Fingerprint: "fp", Done: true, Status: 201, Body: []byte("{}")}
	if err := s.Complete(ctx, "t", "k", done, time.Hour); err != nil {
		t.Fatal(err)
	}
	if rec, claimed, _ := s.Begin(ctx, "t", "k", "fp", time.Hour); claimed || !rec.Done || rec.Status != 201 {
		t.Fatalf("Begin after Complete: %+v claimed=%v", rec, claimed)
	}
	_, _, _ = s.Begin(ctx, "t", "r", "fp", time.Hour)
	if err := s.Release(ctx, "t", "r"); err != nil {
		t.Fatal(err)
	}
	if _, claimed, _ := s.Begin(ctx, "t", "r", "fp", time.Hour); !claimed {
		t.Fatal("a released key could not be claimed again")
	}
}

// storeContract checks what both stores promise: an Unknown record is
// claimed again by the same fingerprint only, once; an owner holds at most
// its limit of live records and is refused beyond it without touching
// another owner's; Release and expiry free an owner's slots.
func storeContract(t *testing.T, s Idempotency, perOwner int) {
	ctx := context.Background()
	const ttl = time.Hour
	// Unknown outcome: reclaimed by the same request, not by another one.
	if _, claimed, err := s.Begin(ctx, "a", "a:u", "fp", ttl); err != nil || !claimed {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	unknown := IdempotencyRecord{Fingerprint: "fp", Done: true, Unknown: true, Status: 504, Header: map[string][]string{}}
	if err := s.Complete(ctx, "a", "a:u", unknown, ttl); err != nil {
		t.Fatal(err)
	}
	if rec, claimed, err := s.Begin(ctx, "a", "a:u", "other", ttl); err != nil || claimed || !rec.Unknown {
		t.Fatalf("another body on an unknown record: %+v claimed=%v err=%v", rec, claimed, err)
	}
	rec, claimed, err := s.Begin(ctx, "a", "a:u", "fp", ttl)
	if err != nil || !claimed || !rec.Unknown || rec.Status != 504 {
		t.Fatalf("retry of an unknown record: %+v claimed=%v err=%v", rec, claimed, err)
	}
	if rec, claimed, _ := s.Begin(ctx, "a", "a:u", "fp", ttl); claimed || rec.Done {
		t.Fatalf("a second retry while the first reconciles: %+v claimed=%v (want in flight)", rec, claimed)
	}
	done := IdempotencyRecord{Fingerprint: "fp", Done: true, Status: 201, Header: map[string][]string{}, Body: []byte("{}")}
	if err := s.Complete(ctx, "a", "a:u", done, ttl); err != nil {
		t.Fatal(err)
	}
	if rec, claimed, _ := s.Begin(ctx, "a", "a:u", "fp", ttl); claimed || !rec.Done || rec.Unknown || rec.Status != 201 {
		t.Fatalf("after reconciling: %+v claimed=%v", rec, claimed)
	}

	// A claim whose outcome could not be stored (Abandon) is an unknown
	// outcome: claimed again by the same body only, to reconcile.
	if _, claimed, err := s.Begin(ctx, "b", "b:lost", "fp", ttl); err != nil || !claimed {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if err := s.Abandon(ctx, "b", "b:lost"); err != nil {
		t.Fatal(err)
	}
	if rec, claimed, _ := s.Begin(ctx, "b", "b:lost", "other", ttl); claimed || rec.Fingerprint != "fp" {
		t.Fatalf("another body on an abandoned claim: %+v claimed=%v", rec, claimed)
	}
	if rec, claimed, err := s.Begin(ctx, "b", "b:lost", "fp", ttl); err != nil || !claimed || !rec.Unknown {
		t.Fatalf("retry of an abandoned claim: %+v claimed=%v err=%v", rec, claimed, err)
	}
	if err := s.Release(ctx, "b", "b:lost"); err != nil {
		t.Fatal(err)
	}

	// Owner a fills its quota (a:u is one of its records).
	for i := 1; i < perOwner; i++ {
		if _, claimed, err := s.Begin(ctx, "a", fmt.Sprintf("a:%d", i), "fp", ttl); err != nil || !claimed {
			t.Fatalf("claim %d of %d: claimed=%v err=%v", i, perOwner, claimed, err)
		}
	}
	if _, claimed, err := s.Begin(ctx, "a", "a:over", "fp", ttl); !errors.Is(err, ErrOwnerRecordsExhausted) || claimed {
		t.Fatalf("claim beyond the quota: claimed=%v err=%v", claimed, err)
	}
	// Its existing records still answer, and another owner is untouched.
	if rec, _, _ := s.Begin(ctx, "a", "a:u", "fp", ttl); rec.Status != 201 {
		t.Fatalf("a record of a full owner: %+v", rec)
	}
	if _, claimed, err := s.Begin(ctx, "b", "b:1", "fp", ttl); err != nil || !claimed {
		t.Fatalf("another owner next to a full one: claimed=%v err=%v", claimed, err)
	}
	// A released record frees its slot.
	if err := s.Release(ctx, "a", "a:1"); err != nil {
		t.Fatal(err)
	}
	if _, claimed, err := s.Begin(ctx, "a", "a:over", "fp", ttl); err != nil || !claimed {
		t.Fatalf("claim after a release: claimed=%v err=%v", claimed, err)
	}
	// Expired records free their slots too.
	for i := range perOwner {
		if _, claimed, err := s.Begin(ctx, "c", fmt.Sprintf("c:%d", i), "fp", 50*time.Millisecond); err != nil || !claimed {
			t.Fatalf("short claim %d: %v %v", i, claimed, err)
		}
	}
	if _, _, err := s.Begin(ctx, "c", "c:over", "fp", ttl); !errors.Is(err, ErrOwnerRecordsExhausted) {
		t.Fatalf("owner c beyond its quota: %v", err)
	}
	time.Sleep(120 * time.Millisecond)
	if _, claimed, err := s.Begin(ctx, "c", "c:over", "fp", ttl); err != nil || !claimed {
		t.Fatalf("claim after the owner's records expired: claimed=%v err=%v", claimed, err)
	}
}

func TestMemoryIdempotencyContract(t *testing.T) {
	storeContract(t, NewMemoryIdempotencyLimited(1000, 5), 5)
}

// TestMemoryIdempotencyNeverEvicts: a full store refuses a new claim
// rather than evict another owner's record.
func TestMemoryIdempotencyNeverEvicts(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryIdempotencyLimited(3, 10)
	for i := range 3 {
		if _, claimed, err := s.Begin(ctx, "stranger", fmt.Sprint(i), "fp", time.Hour); err != nil || !claimed {
			t.Fatal(claimed, err)
		}
	}
	if _, _, err := s.Begin(ctx, "victim", "v", "fp", time.Hour); !errors.Is(err, ErrIdempotencyFull) {
		t.Fatalf("full store: %v", err)
	}
	if rec, claimed, _ := s.Begin(ctx, "stranger", "0", "fp", time.Hour); claimed || rec.Fingerprint != "fp" {
		t.Fatal("a record was evicted")
	}
}

func TestRedisIdempotencyContract(t *testing.T) {
	r := storetest.StartRedis(t)
	s := newRedisStore(redis.NewClient(&redis.Options{Addr: r.Addr(), ReadTimeout: 5 * time.Second}), 2*time.Second)
	t.Cleanup(func() { _ = s.Close() })
	s.perOwner = 5
	storeContract(t, s, 5)
	// The owner sets are under the prefix and expire with their records.
	ctx := context.Background()
	if n := r.Client().ZCard(ctx, redisOwnerKey("a")).Val(); n != 5 {
		t.Fatalf("owner a's set has %d members, want 5", n)
	}
	if ttl := r.Client().PTTL(ctx, redisOwnerKey("a")).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("owner set TTL %v", ttl)
	}
}

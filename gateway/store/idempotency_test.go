package store

import (
	"context"
	"testing"
	"time"
)

// TestMemoryIdempotency: the first Begin claims a key, later ones get the
// record (in flight, then done); Release frees the key for a new claim.
func TestMemoryIdempotency(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryIdempotency(10, time.Hour)
	if _, claimed, err := s.Begin(ctx, "k", "fp", time.Hour); !claimed || err != nil {
		t.Fatalf("first Begin: claimed=%v err=%v", claimed, err)
	}
	rec, claimed, _ := s.Begin(ctx, "k", "fp2", time.Hour)
	if claimed || rec.Fingerprint != "fp" || rec.Done {
		t.Fatalf("second Begin while in flight: %+v claimed=%v", rec, claimed)
	}
	done := IdempotencyRecord{Fingerprint: "fp", Done: true, Status: 201, Body: []byte("{}")}
	if err := s.Complete(ctx, "k", done, time.Hour); err != nil {
		t.Fatal(err)
	}
	if rec, claimed, _ := s.Begin(ctx, "k", "fp", time.Hour); claimed || !rec.Done || rec.Status != 201 {
		t.Fatalf("Begin after Complete: %+v claimed=%v", rec, claimed)
	}
	_, _, _ = s.Begin(ctx, "r", "fp", time.Hour)
	if err := s.Release(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	if _, claimed, _ := s.Begin(ctx, "r", "fp", time.Hour); !claimed {
		t.Fatal("a released key could not be claimed again")
	}
}

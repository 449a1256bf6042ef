package store

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// IdempotencyRecord is what the store keeps for one key.
type IdempotencyRecord struct {
	Fingerprint string              `json:"fingerprint"`
	Done        bool                `json:"done"` // false while the first request runs
	Status      int                 `json:"status"`
	Header      map[string][]string `json:"header"`
	Body        []byte              `json:"body"`
}

// Idempotency keeps idempotency records; memory by default, Redis when configured.
type Idempotency interface {
	// Begin claims key for a new request. When the key is already known it
	// returns the existing record and claimed=false.
	Begin(ctx context.Context, key, fingerprint string, ttl time.Duration) (existing IdempotencyRecord, claimed bool, err error)
	// Complete stores the final response of a claimed key.
	Complete(ctx context.Context, key string, rec IdempotencyRecord, ttl time.Duration) error
	// Release forgets a claimed key whose request failed in a way worth retrying.
	Release(ctx context.Context, key string) error
}

// memoryIdempotency is the in-process store: an expiring LRU under one lock,
// so Begin's check-and-claim is atomic.
type memoryIdempotency struct {
	mu  sync.Mutex
	lru *expirable.LRU[string, IdempotencyRecord]
}

// NewMemoryIdempotency keeps at most size records for ttl.
func NewMemoryIdempotency(size int, ttl time.Duration) Idempotency {
	return &memoryIdempotency{lru: expirable.NewLRU[string, IdempotencyRecord](size, nil, ttl)}
}

func (m *memoryIdempotency) Begin(_ context.Context, key, fp string, _ time.Duration) (IdempotencyRecord, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rec, ok := m.lru.Get(key); ok {
		return rec, false, nil
	}
	m.lru.Add(key, IdempotencyRecord{Fingerprint: fp})
	return IdempotencyRecord{}, true, nil
}

func (m *memoryIdempotency) Complete(_ context.Context, key string, rec IdempotencyRecord, _ time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lru.Add(key, rec)
	return nil
}

func (m *memoryIdempotency) Release(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lru.Remove(key)
	return nil
}

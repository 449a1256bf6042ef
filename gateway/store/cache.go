// Package store holds the gateway's shared state behind small interfaces:
// the descriptor cache and the listing snapshots (Cache), and the
// Idempotency-Key records (Idempotency). Each has an in-memory
// implementation and a Redis one, so that replicas behind a load balancer
// share them (DESIGN.md §5).
package store

import (
	"context"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// Entry is one cached answer: the body as served, with its validator.
type Entry struct {
	Body     []byte    `json:"body"`
	ETag     string    `json:"etag"`
	StoredAt time.Time `json:"stored_at"`
	Expires  time.Time `json:"expires"`
}

// Cache keeps entries under string keys until they expire: the descriptor
// cache and the listing snapshots. In memory by default, Redis when configured.
type Cache interface {
	Get(ctx context.Context, key string) (Entry, bool, error)
	Set(ctx context.Context, key string, e Entry, ttl time.Duration) error
}

// memoryCache is the in-process Cache: an LRU whose entries expire after
// the TTL (hashicorp/golang-lru's expirable LRU).
type memoryCache struct {
	lru *expirable.LRU[string, Entry]
}

// NewMemoryCache returns an in-memory store of at most size entries.
func NewMemoryCache(size int, ttl time.Duration) Cache {
	return memoryCache{lru: expirable.NewLRU[string, Entry](size, nil, ttl)}
}

func (m memoryCache) Get(_ context.Context, key string) (Entry, bool, error) {
	e, ok := m.lru.Get(key)
	if ok && time.Now().After(e.Expires) {
		return Entry{}, false, nil
	}
	return e, ok, nil
}

func (m memoryCache) Set(_ context.Context, key string, e Entry, _ time.Duration) error {
	m.lru.Add(key, e)
	return nil
}

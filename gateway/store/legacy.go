package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// This file is the shared record behind "When a panel refuses the legacy
// operator" (DESIGN.md §2, used by gateway/legacy.go): what one gateway learned about one upstream, so
// that every replica answers at once instead of each sending the refused
// packet again. The Redis implementation shares the other stores' client.

// LegacyRecord says that an upstream refused the legacy client operator at
// one protocol version.
type LegacyRecord struct {
	Version   string    `json:"version"`    // the legacy version refused, e.g. 1.6.0.2
	Operation string    `json:"operation"`  // the operation whose packet was refused
	Code      int       `json:"code"`       // Plesk's errcode (1014, 1005 or 1017)
	Text      string    `json:"text"`       // Plesk's errtext, verbatim
	LearnedAt time.Time `json:"learned_at"` // when the refusal arrived
	Until     time.Time `json:"until"`      // when to send a legacy packet again
}

// LegacyStore keeps one LegacyRecord per upstream (a key naming it).
type LegacyStore interface {
	// Get returns the record for upstream; false when there is none.
	Get(ctx context.Context, upstream string) (LegacyRecord, bool, error)
	// Put replaces the record for upstream; it may be dropped after r.Until.
	Put(ctx context.Context, upstream string, r LegacyRecord) error
	// Delete removes the record for upstream (the panel took the operator).
	Delete(ctx context.Context, upstream string) error
}

// MemoryLegacyStore keeps the records in this process.
type MemoryLegacyStore struct {
	mu sync.Mutex
	m  map[string]LegacyRecord
}

// NewMemoryLegacyStore returns an empty in-memory store.
func NewMemoryLegacyStore() *MemoryLegacyStore {
	return &MemoryLegacyStore{m: map[string]LegacyRecord{}}
}

func (s *MemoryLegacyStore) Get(_ context.Context, upstream string) (LegacyRecord, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[upstream]
	return r, ok, nil
}

func (s *MemoryLegacyStore) Put(_ context.Context, upstream string, r LegacyRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[upstream] = r
	return nil
}

func (s *MemoryLegacyStore) Delete(_ context.Context, upstream string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, upstream)
	return nil
}

// redisLegacyStore keeps one JSON record per upstream under
// pleskgate:legacy:<upstream>, expiring a minute after Until (the reader
// compares Until itself; the expiry only clears old keys away).
type redisLegacyStore struct{ rdb redis.Cmdable }

// NewRedisLegacyStore returns a LegacyStore in the Redis behind rdb.
func NewRedisLegacyStore(rdb redis.Cmdable) LegacyStore { return redisLegacyStore{rdb} }

// RedisLegacyStoreFor returns a LegacyStore sharing the Redis client of an
// Idempotency made by NewRedis, and false for any other store.
func RedisLegacyStoreFor(idem Idempotency) (LegacyStore, bool) {
	s, ok := idem.(*redisStore)
	if !ok {
		return nil, false
	}
	return NewRedisLegacyStore(s.rdb), true
}

func legacyRedisKey(upstream string) string { return redisKeyPrefix + "legacy:" + upstream }

func (s redisLegacyStore) Get(ctx context.Context, upstream string) (LegacyRecord, bool, error) {
	data, err := s.rdb.Get(ctx, legacyRedisKey(upstream)).Bytes()
	if errors.Is(err, redis.Nil) {
		return LegacyRecord{}, false, nil
	}
	if err != nil {
		return LegacyRecord{}, false, fmt.Errorf("redis legacy record get: %w", err)
	}
	var r LegacyRecord
	if err := json.Unmarshal(data, &r); err != nil {
		// Not ours, or from an incompatible version: as if absent.
		return LegacyRecord{}, false, nil
	}
	return r, true, nil
}

func (s redisLegacyStore) Put(ctx context.Context, upstream string, r LegacyRecord) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	ttl := time.Until(r.Until) + time.Minute
	if ttl < time.Minute {
		ttl = time.Minute
	}
	if err := s.rdb.Set(ctx, legacyRedisKey(upstream), data, ttl).Err(); err != nil {
		return fmt.Errorf("redis legacy record set: %w", err)
	}
	return nil
}

func (s redisLegacyStore) Delete(ctx context.Context, upstream string) error {
	if err := s.rdb.Del(ctx, legacyRedisKey(upstream)).Err(); err != nil {
		return fmt.Errorf("redis legacy record delete: %w", err)
	}
	return nil
}

package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Locker serialises short critical sections per key: the gateway's If-Match
// check and the change it guards (DESIGN.md §7), so of two concurrent
// changes with one ETag exactly one wins. In memory it covers one replica;
// in Redis every replica sharing it.
type Locker interface {
	// Lock waits until key is free, and at most until ctx ends (then
	// ErrLockBusy). The Held's Unlock must be called on every path (defer it).
	Lock(ctx context.Context, key string) (Held, error)
}

// Held is a lock taken by Locker.Lock.
type Held interface {
	// Confirm reports whether the lock is still held, and renews it for a
	// full lease: call it right before the work it guards is sent
	// (ErrLockLost, or the store's error, means send nothing).
	Confirm(ctx context.Context) error
	// Unlock releases the lock; it is safe to call more than once.
	Unlock()
}

var (
	// ErrLockBusy is returned when a lock stayed held until the wait ended.
	ErrLockBusy = errors.New("store: lock still held by another request")
	// ErrLockLost is returned by Confirm when the lock lapsed and may be
	// held by another request.
	ErrLockLost = errors.New("store: lock lapsed and may be held by another request")
)

// heldFunc is a Held whose Unlock runs once.
type heldFunc struct {
	once    sync.Once
	unlock  func()
	confirm func(context.Context) error
}

func (h *heldFunc) Unlock() { h.once.Do(h.unlock) }

func (h *heldFunc) Confirm(ctx context.Context) error { return h.confirm(ctx) }

// NewMemoryLocker is a Locker for one process: one mutex per key, kept only
// while someone holds or waits for it.
func NewMemoryLocker() Locker { return &memoryLocker{keys: map[string]*memoryLock{}} }

type memoryLocker struct {
	mu   sync.Mutex
	keys map[string]*memoryLock
}

type memoryLock struct {
	ch   chan struct{} // holds one token while locked
	refs int           // holders and waiters
}

func (l *memoryLocker) Lock(ctx context.Context, key string) (Held, error) {
	l.mu.Lock()
	m := l.keys[key]
	if m == nil {
		m = &memoryLock{ch: make(chan struct{}, 1)}
		l.keys[key] = m
	}
	m.refs++
	l.mu.Unlock()
	select {
	case m.ch <- struct{}{}:
		// An in-process lock cannot lapse: held until Unlock.
		return &heldFunc{
			unlock:  func() { <-m.ch; l.done(key, m) },
			confirm: func(context.Context) error { return nil },
		}, nil
	case <-ctx.Done():
		l.done(key, m)
		return nil, fmt.Errorf("%w: %v", ErrLockBusy, context.Cause(ctx))
	}
}

func (l *memoryLocker) done(key string, m *memoryLock) {
	l.mu.Lock()
	m.refs--
	if m.refs == 0 {
		delete(l.keys, key)
	}
	l.mu.Unlock()
}

// redisLockLease is how long a Redis lock lives without renewal: the holder
// renews it every lease/3, so a replica that dies while holding a lock holds
// it at most this long.
const redisLockLease = 5 * time.Second

var (
	// KEYS[1] lock; ARGV[1] our token. Deletes the lock only if it is ours: a
	// holder whose lease lapsed must not free another request's lock.
	redisUnlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)
	// KEYS[1] lock; ARGV[1] our token; ARGV[2] lease in ms.
	redisLockRenewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)
)

// NewRedisLocker is a Locker in the Redis behind rdb: SET key token NX PX
// lease with a random token, renewed while held, released by a
// compare-and-delete script.
func NewRedisLocker(rdb redis.UniversalClient) Locker {
	return &redisLocker{rdb: rdb, lease: redisLockLease, poll: 5 * time.Millisecond}
}

// RedisLockerFor returns a Locker sharing the Redis client of an Idempotency
// made by NewRedis, and false for any other store.
func RedisLockerFor(idem Idempotency) (Locker, bool) {
	s, ok := idem.(*redisStore)
	if !ok {
		return nil, false
	}
	return NewRedisLocker(s.rdb), true
}

type redisLocker struct {
	rdb   redis.UniversalClient
	lease time.Duration
	poll  time.Duration // first wait between attempts; doubles up to 100ms
}

func (l *redisLocker) Lock(ctx context.Context, key string) (Held, error) {
	key = redisKey("lock:" + key)
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	token := hex.EncodeToString(raw[:])
	wait := l.poll
	for {
		ok, err := l.rdb.SetNX(ctx, key, token, l.lease).Result()
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w: %v", ErrLockBusy, context.Cause(ctx))
			}
			return nil, fmt.Errorf("redis lock: %w", err)
		}
		if ok {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w: %v", ErrLockBusy, context.Cause(ctx))
		case <-t.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
	stop := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		tick := time.NewTicker(l.lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				rctx, cancel := context.WithTimeout(context.Background(), l.lease/3)
				n, err := redisLockRenewScript.Run(rctx, l.rdb, []string{key}, token, l.lease.Milliseconds()).Int()
				cancel()
				if err == nil && n == 0 {
					return // lost (lapsed while Redis was unreachable)
				}
			}
		}
	}()
	return &heldFunc{
		unlock: func() {
			close(stop)
			<-renewed
			// Not the request's context: a request that was cancelled or
			// timed out must still free its lock.
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = redisUnlockScript.Run(rctx, l.rdb, []string{key}, token).Err()
		},
		// The renewal above keeps the lock while Redis answers; Confirm
		// catches the case where it could not (Redis paused or unreachable
		// for a lease) and another replica took the lock meanwhile.
		confirm: func(ctx context.Context) error {
			n, err := redisLockRenewScript.Run(ctx, l.rdb, []string{key}, token, l.lease.Milliseconds()).Int()
			if err != nil {
				return fmt.Errorf("redis lock confirm: %w", err)
			}
			if n == 0 {
				return ErrLockLost
			}
			return nil
		},
	}, nil
}

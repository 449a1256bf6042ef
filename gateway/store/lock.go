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
	// ErrLockBusy). unlock releases it; it is safe to call more than once and
	// must be called on every path (defer it).
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// ErrLockBusy is returned when a lock stayed held until the wait ended.
var ErrLockBusy = errors.New("store: lock still held by another request")

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

func (l *memoryLocker) Lock(ctx context.Context, key string) (func(), error) {
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
		var once sync.Once
		return func() {
			once.Do(func() {
				<-m.ch
				l.done(key, m)
			})
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

func (l *redisLocker) Lock(ctx context.Context, key string) (func(), error) {
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
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-renewed
			// Not the request's context: a request that was cancelled or
			// timed out must still free its lock.
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = redisUnlockScript.Run(rctx, l.rdb, []string{key}, token).Err()
		})
	}, nil
}

package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/gateway/store/storetest"
)

// lockers are the implementations under test: in memory, and in a real
// redis-server (two Lockers on two clients: two replicas).
func lockers(t *testing.T) map[string][2]Locker {
	out := map[string][2]Locker{}
	m := NewMemoryLocker()
	out["memory"] = [2]Locker{m, m}
	r := storetest.StartRedis(t)
	a, b := r.Client(), r.Client()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	out["redis"] = [2]Locker{NewRedisLocker(a), NewRedisLocker(b)}
	return out
}

// TestLockExcludes: while one holder has a key, another waits until the wait
// ends (ErrLockBusy) and gets it once it is released; other keys are free.
func TestLockExcludes(t *testing.T) {
	for name, ls := range lockers(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			unlock, err := ls[0].Lock(ctx, "client:1")
			if err != nil {
				t.Fatal(err)
			}
			other, err := ls[1].Lock(ctx, "client:2")
			if err != nil {
				t.Fatal(err)
			}
			other.Unlock()
			done, cancel := context.WithCancel(ctx)
			cancel() // a wait that has already ended: the holder keeps the key
			if _, err := ls[1].Lock(done, "client:1"); !errors.Is(err, ErrLockBusy) {
				t.Fatalf("second holder: %v, want ErrLockBusy", err)
			}
			got := make(chan Held, 1)
			go func() {
				u, err := ls[1].Lock(ctx, "client:1")
				if err != nil {
					t.Error(err)
				}
				got <- u
			}()
			unlock.Unlock()
			unlock.Unlock() // twice is harmless
			u := <-got
			u.Unlock()
			again, err := ls[0].Lock(ctx, "client:1")
			if err != nil {
				t.Fatal(err)
			}
			again.Unlock()
		})
	}
}

// TestLockCountsExactly: many goroutines on two "replicas" increment a
// plain counter under the lock; none is lost.
func TestLockCountsExactly(t *testing.T) {
	for name, ls := range lockers(t) {
		t.Run(name, func(t *testing.T) {
			n := 0
			var wg sync.WaitGroup
			for i := range 20 {
				wg.Go(func() {
					unlock, err := ls[i%2].Lock(context.Background(), "counter")
					if err != nil {
						t.Error(err)
						return
					}
					defer unlock.Unlock()
					v := n
					n = v + 1
				})
			}
			wg.Wait()
			if n != 20 {
				t.Fatalf("counter %d, want 20", n)
			}
		})
	}
}

// TestLockReleasedOnPanic: an unlock deferred by a panicking function frees the key.
func TestLockReleasedOnPanic(t *testing.T) {
	for name, ls := range lockers(t) {
		t.Run(name, func(t *testing.T) {
			func() {
				defer func() { _ = recover() }()
				unlock, err := ls[0].Lock(context.Background(), "panic")
				if err != nil {
					t.Fatal(err)
				}
				defer unlock.Unlock()
				panic("boom")
			}()
			// Bounded only so that a lock never released fails the test instead of hanging it.
			done, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			unlock, err := ls[1].Lock(done, "panic")
			if err != nil {
				t.Fatalf("after the panic: %v", err)
			}
			unlock.Unlock()
		})
	}
}

// TestRedisUnlockKeepsAnotherHoldersLock: a holder whose lock lapsed (here:
// deleted) and was taken by another does not free the other's lock on unlock.
func TestRedisUnlockKeepsAnotherHoldersLock(t *testing.T) {
	r := storetest.StartRedis(t)
	rdb := r.Client()
	defer rdb.Close()
	l := NewRedisLocker(rdb)
	ctx := context.Background()
	unlockA, err := l.Lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	rdb.Del(ctx, "pleskgate:lock:k") // A's lease lapsed
	unlockB, err := l.Lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	unlockA.Unlock()
	if n, _ := rdb.Exists(ctx, "pleskgate:lock:k").Result(); n != 1 {
		t.Fatal("A's unlock deleted B's lock")
	}
	unlockB.Unlock()
	if n, _ := rdb.Exists(ctx, "pleskgate:lock:k").Result(); n != 0 {
		t.Fatal("B's unlock left the lock")
	}
}

// TestRedisLockConfirm: Confirm renews a lock still held, and reports
// ErrLockLost once it lapsed and another holder took it, so the work it
// guards is not sent.
func TestRedisLockConfirm(t *testing.T) {
	r := storetest.StartRedis(t)
	rdb := r.Client()
	l := NewRedisLocker(rdb)
	ctx := context.Background()
	held, err := l.Lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	rdb.PExpire(ctx, "pleskgate:lock:k", 50*time.Millisecond)
	if err := held.Confirm(ctx); err != nil {
		t.Fatalf("confirm while held: %v", err)
	}
	if ttl, _ := rdb.PTTL(ctx, "pleskgate:lock:k").Result(); ttl < time.Second {
		t.Fatalf("confirm left a lease of %v, want it renewed", ttl)
	}
	rdb.Set(ctx, "pleskgate:lock:k", "another-replica", time.Minute) // lapsed, taken
	if err := held.Confirm(ctx); !errors.Is(err, ErrLockLost) {
		t.Fatalf("confirm after the lock was taken: %v, want ErrLockLost", err)
	}
	if v, _ := rdb.Get(ctx, "pleskgate:lock:k").Result(); v != "another-replica" {
		t.Fatalf("confirm changed the other holder's lock to %q", v)
	}
}

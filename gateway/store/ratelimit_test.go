package store

import (
	"strconv"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/gateway/store/storetest"
)

func TestRedisBudgets(t *testing.T) {
	r := storetest.StartRedis(t)
	rdb := r.Client()
	b := redisBudgets{rdb: rdb, callerClock: true} // the test's clock
	ctx := t.Context()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const hold, window = 90 * time.Second, time.Minute
	global, addr := BudgetKey("all"), BudgetKey("addr:x")
	both := []Budget{{Key: addr, Max: 2}, {Key: global, Max: 3}}

	take := func(id string, at time.Time) (int, time.Duration) {
		t.Helper()
		full, wait, err := b.Hold(ctx, id, both, at, hold)
		if err != nil {
			t.Fatal(err)
		}
		return full, wait
	}
	if full, _ := take("u1", now); full != -1 {
		t.Fatalf("first hold: full %d", full)
	}
	if full, _ := take("u2", now.Add(time.Second)); full != -1 {
		t.Fatalf("second hold: full %d", full)
	}
	// The address budget (index 0) is full; the global one lost nothing.
	full, wait := take("u3", now.Add(2*time.Second))
	if full != 0 || wait != hold-2*time.Second {
		t.Fatalf("third hold: full %d wait %v, want 0 and %v", full, wait, hold-2*time.Second)
	}
	if n := rdb.ZCard(ctx, global).Val(); n != 2 {
		t.Fatalf("a refused hold took a unit of the other budget: %d units", n)
	}
	// Given back, a unit is free again.
	if err := b.Release(ctx, "u1", []string{addr, global}); err != nil {
		t.Fatal(err)
	}
	if full, _ := take("u3", now.Add(3*time.Second)); full != -1 {
		t.Fatalf("after a release: full %d", full)
	}
	// Spent as 2 failed logins, u2 takes two units of each budget until a window after now.
	if err := b.Spend(ctx, "u2", 2, []string{addr, global}, now.Add(4*time.Second), window); err != nil {
		t.Fatal(err)
	}
	if n := rdb.ZCard(ctx, global).Val(); n != 3 {
		t.Fatalf("global budget: %d units, want 3 (u3, and u2 twice)", n)
	}
	other := []Budget{{Key: BudgetKey("addr:y"), Max: 5}, {Key: global, Max: 3}}
	full, wait, err := b.Hold(ctx, "u4", other, now.Add(5*time.Second), hold)
	if err != nil || full != 1 || wait <= 0 {
		t.Fatalf("global budget full: %d %v %v", full, wait, err)
	}
	if rdb.Exists(ctx, BudgetKey("addr:y")).Val() != 0 {
		t.Fatal("a refused hold left a unit in the first budget")
	}
	// Spent units lapse a window after they were spent.
	if full, _, _ := b.Hold(ctx, "u5", other, now.Add(4*time.Second+window-time.Millisecond), hold); full != 1 {
		t.Fatalf("u2's spent units should still count: full %d", full)
	}
	if full, _, _ := b.Hold(ctx, "u5", other, now.Add(4*time.Second+window), hold); full != -1 {
		t.Fatalf("after u2's units lapsed: full %d", full)
	}
	// Held units lapse after hold: u3 and u5 free their global units.
	if n := rdb.ZCount(ctx, global, "-inf", strconv.FormatInt(now.Add(4*time.Second+window+hold).UnixMilli(), 10)).Val(); n != 2 {
		t.Fatalf("global budget holds %d units lapsing within a hold, want 2", n)
	}
	// Keys expire on their own, after their longest unit.
	if ttl := rdb.PTTL(ctx, global).Val(); ttl <= 0 || ttl > hold+time.Second {
		t.Fatalf("global key TTL %v", ttl)
	}
}

// TestRedisBudgetsOnRedisClock: a replica whose clock is an hour off holds
// and spends units that lapse by Redis's clock, as every other replica's
// do: a unit held for 90 s lapses 90 s after Redis's now, not the replica's.
// Before, the scripts took the replica's now: a replica an hour behind
// held units that had already lapsed for the others, and one an hour ahead
// kept a failed login counted an hour too long.
func TestRedisBudgetsOnRedisClock(t *testing.T) {
	r := storetest.StartRedis(t)
	rdb := r.Client()
	b := NewRedisBudgets(rdb)
	ctx := t.Context()
	const hold, window = 90 * time.Second, time.Minute
	key := BudgetKey("all")
	for _, skew := range []time.Duration{-time.Hour, time.Hour} {
		before := rdb.Time(ctx).Val()
		if full, _, err := b.Hold(ctx, "u", []Budget{{Key: key, Max: 10}}, time.Now().Add(skew), hold); err != nil || full != -1 {
			t.Fatalf("hold: full %d, %v", full, err)
		}
		if err := b.Spend(ctx, "s", 1, []string{key}, time.Now().Add(skew), window); err != nil {
			t.Fatal(err)
		}
		after := rdb.Time(ctx).Val()
		for id, d := range map[string]time.Duration{"u": hold, "s": window} {
			lapse := int64(rdb.ZScore(ctx, key, id).Val())
			if lapse < before.Add(d).UnixMilli() || lapse > after.Add(d).UnixMilli() {
				t.Fatalf("replica clock %v off: unit %s lapses at %d, want %v after Redis's now (%d..%d)", skew, id, lapse, d, before.Add(d).UnixMilli(), after.Add(d).UnixMilli())
			}
		}
		rdb.Del(ctx, key)
	}
}

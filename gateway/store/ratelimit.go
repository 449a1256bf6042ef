package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Budgets are the failed-login budgets every replica on one Redis shares
// (DESIGN.md §7, "Shared bounds are shared"). A budget is a sliding
// window: at most Max units in it at once. A unit is one member of a Redis
// sorted set, scored by the moment it lapses:
//
//   - Hold takes a unit of every budget named, all or none, for a request
//     whose unproven credentials are about to go to the panel. The unit
//     lapses after hold unless settled (a replica that dies holding it
//     frees it then);
//   - Spend makes it n failed logins that lapse window after now (also
//     when the hold had lapsed, so a slow refusal still counts);
//   - Release gives it back: the panel did not refuse the credentials.
//
// Each step is one Lua script or command, atomic in Redis, so two replicas
// never both take the last unit. The scripts read the time from Redis
// (TIME), not from the replica: replicas whose clocks differ still agree on
// when a unit lapses. The now given to Hold and Spend is ignored there. Keys carry the hash tag {authfail}: every
// budget of one Hold lives in one slot, as a script needs on a cluster.
// Budget keys name an HMAC (the shield's business), never an address.
type Budgets interface {
	// Hold takes a unit of every budget in bs for the unit id, or of none:
	// full is then the index in bs of the first budget without a free
	// unit (-1 when the unit was taken) and wait how long until its
	// earliest unit lapses.
	Hold(ctx context.Context, id string, bs []Budget, now time.Time, hold time.Duration) (full int, wait time.Duration, err error)
	// Spend turns the unit id of each budget key into n units that lapse
	// at now+window (in Redis: its own now).
	Spend(ctx context.Context, id string, n int, keys []string, now time.Time, window time.Duration) error
	// Release gives back the unit id of each budget key.
	Release(ctx context.Context, id string, keys []string) error
}

// Budget is one shared budget: its key (under the budget prefix) and the
// units it holds at most.
type Budget struct {
	Key string
	Max int
}

// BudgetKey is the Redis key of budget name.
func BudgetKey(name string) string { return redisKeyPrefix + "{authfail}:" + name }

// NewUnitID is a random unit id: it says nothing of the caller.
func NewUnitID() string {
	var raw [12]byte
	_, _ = rand.Read(raw[:])
	return hex.EncodeToString(raw[:])
}

// RedisBudgetsFor returns budgets in the Redis of a Redis idempotency store
// (every replica sharing it shares them), and false for any other store:
// the budgets are then each replica's own.
func RedisBudgetsFor(idem Idempotency) (Budgets, bool) {
	s, ok := idem.(*redisStore)
	if !ok {
		return nil, false
	}
	return NewRedisBudgets(s.rdb), true
}

// NewRedisBudgets keeps budgets in rdb, on Redis's clock.
func NewRedisBudgets(rdb redis.UniversalClient) Budgets { return redisBudgets{rdb: rdb} }

// OnCallerClock is b with Redis budgets on the now given to Hold and Spend
// instead of Redis's clock: for tests, whose clock Redis does not follow.
// Other budgets are returned as they are.
func OnCallerClock(b Budgets) Budgets {
	if r, ok := b.(redisBudgets); ok {
		r.callerClock = true
		return r
	}
	return b
}

type redisBudgets struct {
	rdb redis.UniversalClient
	// callerClock (tests only): the scripts take the now given to Hold and
	// Spend instead of Redis's TIME.
	callerClock bool
}

// nowArg is the scripts' now argument: empty for Redis's own clock.
func (r redisBudgets) nowArg(now time.Time) string {
	if r.callerClock {
		return strconv.FormatInt(now.UnixMilli(), 10)
	}
	return ""
}

// redisNow is the Lua that sets now (ms) from ARGV[2], or from Redis's
// clock when it is empty (scripts replicate by effects, so TIME is allowed).
const redisNow = `
local now = tonumber(ARGV[2])
if ARGV[2] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// holdScript: KEYS the budgets; ARGV id, now (ms, or empty: Redis's), hold
// (ms), key TTL (ms), then each budget's Max. Lapsed units are dropped first.
var holdScript = redis.NewScript(redisNow + `
for i, k in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
  if redis.call('ZCARD', k) >= tonumber(ARGV[4 + i]) then
    local first = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
    return {i, tonumber(first[2]) - now}
  end
end
for _, k in ipairs(KEYS) do
  redis.call('ZADD', k, now + tonumber(ARGV[3]), ARGV[1])
  if redis.call('PTTL', k) < tonumber(ARGV[4]) then
    redis.call('PEXPIRE', k, ARGV[4])
  end
end
return {0, 0}
`)

// spendScript: KEYS the budgets; ARGV id, now (ms, or empty: Redis's), n,
// window (ms), key TTL (ms). The units lapse at now + window.
var spendScript = redis.NewScript(redisNow + `
local lapse = now + tonumber(ARGV[4])
for _, k in ipairs(KEYS) do
  redis.call('ZADD', k, lapse, ARGV[1])
  for j = 2, tonumber(ARGV[3]) do
    redis.call('ZADD', k, lapse, ARGV[1] .. '/' .. j)
  end
  if redis.call('PTTL', k) < tonumber(ARGV[5]) then
    redis.call('PEXPIRE', k, ARGV[5])
  end
end
return 0
`)

// keyTTL is how long a budget key lives after a write that adds a unit
// lasting d: a second past it. The scripts only ever lengthen a key's TTL,
// so the key outlives every unit in it.
func keyTTL(d time.Duration) int64 { return d.Milliseconds() + 1000 }

func (r redisBudgets) Hold(ctx context.Context, id string, bs []Budget, now time.Time, hold time.Duration) (int, time.Duration, error) {
	keys := make([]string, len(bs))
	args := make([]any, 0, 4+len(bs))
	args = append(args, id, r.nowArg(now), hold.Milliseconds(), keyTTL(hold))
	for i, b := range bs {
		keys[i] = b.Key
		args = append(args, b.Max)
	}
	res, err := holdScript.Run(ctx, r.rdb, keys, args...).Int64Slice()
	if err != nil {
		return 0, 0, err
	}
	if len(res) != 2 {
		return 0, 0, redis.Nil
	}
	return int(res[0]) - 1, time.Duration(res[1]) * time.Millisecond, nil
}

func (r redisBudgets) Spend(ctx context.Context, id string, n int, keys []string, now time.Time, window time.Duration) error {
	if n < 1 {
		n = 1
	}
	return spendScript.Run(ctx, r.rdb, keys, id, r.nowArg(now), strconv.Itoa(n), window.Milliseconds(), keyTTL(window)).Err()
}

func (r redisBudgets) Release(ctx context.Context, id string, keys []string) error {
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.ZRem(ctx, k, id)
		}
		return nil
	})
	return err
}

package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel/trace"
	"io"
	neturl "net/url"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Redis stores (DESIGN.md §5): with PLESKGATE_REDIS_URL set, the descriptor
// cache and the Idempotency-Key records live in Redis, so every replica behind
// a load balancer shares them.
//
// When Redis is unreachable the gateway degrades rather than fails:
//   - the descriptor cache reports the error and the gateway fetches from
//     Plesk without it (Cache-Status: pleskgate; fwd=bypass): reads keep working;
//   - a POST carrying an Idempotency-Key is refused with 503
//     "idempotency-unavailable": the key promises at most one client, and
//     without the shared store no replica can keep that promise. A POST
//     without the key is served as usual (the caller did not ask for the promise).
// Short socket timeouts and a single dial attempt make a dead Redis cost a
// request milliseconds (refused) to about a second (unreachable host), not the
// client library's default of several seconds.

const (
	redisKeyPrefix = "pleskgate:"
	// redisInFlightLease is how long an in-flight claim lives without renewal.
	// The replica running the request renews it every lease/3, so a slow
	// request keeps its key however long it takes, while the claim of a replica
	// that died mid-request lapses within the lease and a retry can proceed
	// (it would otherwise answer 409 for the whole idempotency TTL).
	redisInFlightLease = 30 * time.Second
	redisTimeout       = 500 * time.Millisecond
)

// RedisOption configures NewRedis.
type RedisOption func(*redisOptions)

type redisOptions struct {
	tp         trace.TracerProvider // WithTracerProvider (redis_tracing.go)
	perOwner   int                  // WithOwnerLimit
	claimLease time.Duration        // WithClaimLease
}

// WithClaimLease sets how long an in-flight Idempotency-Key claim lives
// without renewal (30s when d <= 0): how long a retry waits (409) before the
// claim of a replica that died mid-request is taken as an unknown outcome.
func WithClaimLease(d time.Duration) RedisOption {
	return func(o *redisOptions) { o.claimLease = d }
}

// WithOwnerLimit keeps at most n live idempotency records per owner
// (DefaultIdempotencyPerOwner when n <= 0).
func WithOwnerLimit(n int) RedisOption {
	return func(o *redisOptions) { o.perOwner = n }
}

// NewRedis connects the descriptor cache and the idempotency store to
// the Redis at url (redis://[user:password@]host:port[/db] or rediss:// for
// TLS; go-redis URL options such as ?dial_timeout=2s override the defaults
// here). It does not contact Redis: a Redis that is down at start-up is
// handled like one that goes down later. Close the io.Closer on shutdown.
func NewRedis(url string, opts ...RedisOption) (Cache, Idempotency, io.Closer, error) {
	var o redisOptions
	for _, f := range opts {
		f(&o)
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		// url.Parse quotes the whole URL in its errors: password included.
		if ue := (*neturl.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, nil, fmt.Errorf("redis URL: %w", err)
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = redisTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = redisTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = redisTimeout
	}
	if opt.PoolTimeout == 0 {
		opt.PoolTimeout = 2 * redisTimeout
	}
	if opt.MaxRetries == 0 {
		// One retry covers a pooled connection that died with a Redis restart;
		// more would only make a dead Redis slower to report.
		opt.MaxRetries = 1
	}
	if opt.DialerRetries == 0 {
		opt.DialerRetries = 1 // one dial attempt per connection (the default is 5)
	}
	opt.ContextTimeoutEnabled = true // a cancelled request stops waiting for Redis
	opt.DisableIdentity = true       // no CLIENT SETINFO round trip per connection
	if opt.MaintNotificationsConfig == nil {
		opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	}
	rdb := redis.NewClient(opt)
	if err := instrumentRedis(rdb, o); err != nil {
		return nil, nil, nil, err
	}
	lease := redisInFlightLease
	if o.claimLease > 0 {
		lease = o.claimLease
	}
	s := newRedisStore(rdb, lease)
	if o.perOwner > 0 {
		s.perOwner = o.perOwner
	}
	return redisCache{s}, s, s, nil
}

// SetRedisLogger sends the Redis client library's own messages (failed dials
// while Redis is down, and the like) to warn instead of plain lines on
// stderr. The library's logger is process-wide.
func SetRedisLogger(warn func(msg string)) {
	redis.SetLogger(redisLogger(warn))
}

type redisLogger func(msg string)

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func newRedisStore(rdb *redis.Client, lease time.Duration) *redisStore {
	ctx, cancel := context.WithCancel(context.Background())
	return &redisStore{rdb: rdb, lease: lease, perOwner: DefaultIdempotencyPerOwner, claims: map[string]*redisClaim{}, ctx: ctx, cancel: cancel}
}

// redisKey puts key under the pleskgate: prefix (the gateway's keys already
// carry it: pleskgate:descriptor:…, pleskgate:idem:…).
func redisKey(key string) string {
	if strings.HasPrefix(key, redisKeyPrefix) {
		return key
	}
	return redisKeyPrefix + key
}

// redisCache is the Cache half: one JSON-encoded Entry per key,
// expiring with the entry (SET … PX ttl).
type redisCache struct{ s *redisStore }

func (c redisCache) Get(ctx context.Context, key string) (Entry, bool, error) {
	data, err := c.s.rdb.Get(ctx, redisKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("redis cache get: %w", err)
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		// Not ours or from an incompatible version: a miss, overwritten by the refetch.
		return Entry{}, false, nil
	}
	return e, true, nil
}

func (c redisCache) Set(ctx context.Context, key string, e Entry, ttl time.Duration) error {
	if ttl <= 0 {
		ttl = time.Until(e.Expires)
	}
	if ttl < time.Millisecond {
		return nil // already expired
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := c.s.rdb.Set(ctx, redisKey(key), data, ttl).Err(); err != nil {
		return fmt.Errorf("redis cache set: %w", err)
	}
	return nil
}

// redisStore is the Idempotency half, and owns the client.
//
// A key's value is a JSON redisIdemRecord. Begin claims a key in one script:
// Redis decides atomically which replica's request runs. The claim carries a
// random token and lives as long as a record would (the idempotency TTL);
// beside it a lease key (pleskgate:idemlease:…) lives for the lease and is
// renewed while the request runs. A claim whose lease lapsed — its replica
// died mid-request, or could not store the outcome (Abandon) — is an unknown
// outcome: the next Begin with its fingerprint claims it again to reconcile,
// never as a free key (DESIGN.md §5). Complete, Release and Abandon act only
// while the key still holds this replica's claim (compare-and-set /
// compare-and-delete in Lua), so a replica whose claim was taken over cannot
// overwrite or delete another request's record.
//
// Each owner's live keys are also members of a sorted set
// (pleskgate:idemowner:<owner>), scored by when they expire: the claim
// script drops expired members and refuses a new key when the owner already
// holds perOwner, so one caller cannot fill Redis (maxmemory noeviction) for
// the others.
type redisStore struct {
	rdb      *redis.Client
	lease    time.Duration
	perOwner int
	ctx      context.Context // ends on Close: stops the renewals
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu     sync.Mutex
	claims map[string]*redisClaim // keys this replica claimed and has not yet completed or released
}

type redisClaim struct {
	value string        // the in-flight value SET by Begin, compared by the scripts
	stop  chan struct{} // closed by Complete/Release: ends the renewal
}

// redisIdemRecord is the stored value: the record, plus the claim token while in flight.
type redisIdemRecord struct {
	IdempotencyRecord
	Claim string `json:"claim,omitempty"`
	// Leased: the claim's liveness is its lease key. Claims written by
	// earlier releases lack it and expire on their own instead.
	Leased bool `json:"leased,omitempty"`
}

// redisOwnerKey is the sorted set of owner's live keys.
func redisOwnerKey(owner string) string { return redisKeyPrefix + "idemowner:" + owner }

// redisLeaseKey is the lease of the claim at key (key carries the prefix).
func redisLeaseKey(key string) string {
	return redisKeyPrefix + "idemlease:" + strings.TrimPrefix(key, redisKeyPrefix)
}

var (
	// KEYS[1] key, KEYS[2] owner set, KEYS[3] lease; ARGV[1] in-flight
	// value, ARGV[2] lease in ms, ARGV[3] fingerprint, ARGV[4] now in ms,
	// ARGV[5] per-owner limit, ARGV[6] ttl in ms. Returns {1, previous} when
	// claimed (previous is '' for a free key, the Unknown record claimed
	// again otherwise), {3, previous} when a lapsed claim with this
	// fingerprint was claimed again, {0, current} when the key is taken,
	// {2, ''} when the owner holds its limit.
	redisClaimScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[4])
local ttl = tonumber(ARGV[6])
local function claim(code, prev)
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
  redis.call('ZADD', KEYS[2], now + ttl, KEYS[1])
  if redis.call('PTTL', KEYS[2]) < ttl then
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
  return {code, prev}
end
if cur then
  local ok, rec = pcall(cjson.decode, cur)
  if ok and type(rec) == 'table' and rec.fingerprint == ARGV[3] then
    if rec.done == true and rec.unknown == true then
      return claim(1, cur)
    end
    if rec.done ~= true and rec.leased == true and redis.call('EXISTS', KEYS[3]) == 0 then
      return claim(3, cur)
    end
  end
  return {0, cur}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
  return {2, ''}
end
return claim(1, '')`)
	// KEYS[1] key, KEYS[2] lease; ARGV[1] our in-flight value; ARGV[2] lease in ms.
	redisRenewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
  return 1
end
return 0`)
	// KEYS[1] key, KEYS[2] owner set, KEYS[3] lease; ARGV[1] our in-flight
	// value ('' if none); ARGV[2] final value; ARGV[3] ttl in ms; ARGV[4]
	// now in ms. Stores the final record over our own claim, or over nothing
	// (the key expired meanwhile: recording the outcome still spares a retry
	// a duplicate), never over another request's claim or record.
	redisCompleteScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('DEL', KEYS[3])
  redis.call('ZADD', KEYS[2], tonumber(ARGV[4]) + tonumber(ARGV[3]), KEYS[1])
  if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then
    redis.call('PEXPIRE', KEYS[2], ARGV[3])
  end
  return 1
end
return 0`)
	// KEYS[1] key, KEYS[2] owner set, KEYS[3] lease; ARGV[1] our in-flight value.
	redisReleaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('ZREM', KEYS[2], KEYS[1])
  redis.call('DEL', KEYS[3])
  return redis.call('DEL', KEYS[1])
end
return 0`)
	// KEYS[1] key, KEYS[2] lease; ARGV[1] our in-flight value. Ends the
	// claim's lease at once: it only deletes, so Redis runs it even when
	// full (maxmemory with noeviction refuses the writes that need memory).
	redisAbandonScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[2])
end
return 0`)
)

func (s *redisStore) Begin(ctx context.Context, owner, key, fp string, ttl time.Duration) (IdempotencyRecord, bool, error) {
	key = redisKey(key)
	var token [16]byte
	_, _ = rand.Read(token[:])
	value, err := json.Marshal(redisIdemRecord{IdempotencyRecord: IdempotencyRecord{Fingerprint: fp}, Claim: hex.EncodeToString(token[:]), Leased: true})
	if err != nil {
		return IdempotencyRecord{}, false, err
	}
	ttl = idemTTL(ttl)
	lease := min(s.lease, ttl)
	res, err := redisClaimScript.Run(ctx, s.rdb, []string{key, redisOwnerKey(owner), redisLeaseKey(key)},
		value, lease.Milliseconds(), fp, time.Now().UnixMilli(), s.perOwner, ttl.Milliseconds()).Slice()
	if err != nil {
		return IdempotencyRecord{}, false, fmt.Errorf("redis idempotency claim: %w", err)
	}
	if len(res) != 2 {
		return IdempotencyRecord{}, false, fmt.Errorf("redis idempotency claim: unexpected answer %v", res)
	}
	code, _ := res[0].(int64)
	data, _ := res[1].(string)
	var prev redisIdemRecord
	if data != "" {
		if err := json.Unmarshal([]byte(data), &prev); err != nil {
			return IdempotencyRecord{}, false, fmt.Errorf("redis idempotency record %q: %w", key, err)
		}
	}
	switch code {
	case 1:
		s.hold(key, string(value), lease, ttl)
		return prev.IdempotencyRecord, true, nil
	case 3:
		s.hold(key, string(value), lease, ttl)
		return lapsedRecord(fp), true, nil
	case 2:
		return IdempotencyRecord{}, false, ErrOwnerRecordsExhausted
	}
	return prev.IdempotencyRecord, false, nil
}

// idemTTL is ttl, or the gateway's default when unset; at least 1ms (PX 0 is an error).
func idemTTL(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return 24 * time.Hour
	}
	return max(ttl, time.Millisecond)
}

// hold remembers a claim and renews its lease until Complete, Release or
// Close, and at most for ttl (a request that never finishes, e.g. a panic,
// must not hold its key forever).
func (s *redisStore) hold(key, value string, lease, ttl time.Duration) {
	c := &redisClaim{value: value, stop: make(chan struct{})}
	s.mu.Lock()
	if old := s.claims[key]; old != nil {
		close(old.stop) // our earlier claim lapsed unnoticed; this one replaces it
	}
	s.claims[key] = c
	s.mu.Unlock()
	stop := c.stop
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(max(lease/3, time.Millisecond))
		defer tick.Stop()
		deadline := time.NewTimer(ttl)
		defer deadline.Stop()
		for {
			select {
			case <-stop:
				return
			case <-s.ctx.Done():
				return
			case <-deadline.C:
				return
			case <-tick.C:
				ctx, cancel := context.WithTimeout(s.ctx, lease/3)
				n, err := redisRenewScript.Run(ctx, s.rdb, []string{key, redisLeaseKey(key)}, value, lease.Milliseconds()).Int()
				cancel()
				if err == nil && n == 0 {
					return // the claim is gone (it lapsed while Redis was unreachable)
				}
			}
		}
	}()
}

// claimOf is this replica's claim on key, kept; "" when it holds none.
func (s *redisStore) claimOf(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.claims[key]; c != nil {
		return c.value
	}
	return ""
}

// take forgets key's claim and stops its renewal; "" when this replica holds none.
func (s *redisStore) take(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.claims[key]
	if c == nil {
		return ""
	}
	delete(s.claims, key)
	close(c.stop)
	return c.value
}

func (s *redisStore) Complete(ctx context.Context, owner, key string, rec IdempotencyRecord, ttl time.Duration) error {
	key = redisKey(key)
	claim := s.claimOf(key)
	value, err := json.Marshal(redisIdemRecord{IdempotencyRecord: rec})
	if err != nil {
		return err
	}
	n, err := redisCompleteScript.Run(ctx, s.rdb, []string{key, redisOwnerKey(owner), redisLeaseKey(key)}, claim, value, idemTTL(ttl).Milliseconds(), time.Now().UnixMilli()).Int()
	if err != nil {
		// Redis refused the record (full, say) or did not answer: the claim
		// stays held, for the caller to Abandon (or Release).
		return fmt.Errorf("redis idempotency complete: %w", err)
	}
	s.take(key)
	if n == 0 {
		return fmt.Errorf("redis idempotency complete: key %q was claimed by another request after this one's claim lapsed", key)
	}
	return nil
}

func (s *redisStore) Release(ctx context.Context, owner, key string) error {
	key = redisKey(key)
	claim := s.take(key)
	if claim == "" {
		return nil // nothing of ours to release
	}
	if err := redisReleaseScript.Run(ctx, s.rdb, []string{key, redisOwnerKey(owner), redisLeaseKey(key)}, claim).Err(); err != nil {
		return fmt.Errorf("redis idempotency release: %w", err)
	}
	return nil
}

func (s *redisStore) Abandon(_ context.Context, _, key string) error {
	key = redisKey(key)
	if claim := s.take(key); claim != "" {
		return s.abandon(key, claim)
	}
	return nil // not ours (completed, released, or taken over)
}

// abandon ends claim's lease at once. Its own context: it runs after a
// failure, possibly of the request's.
func (s *redisStore) abandon(key, claim string) error {
	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	defer cancel()
	if err := redisAbandonScript.Run(ctx, s.rdb, []string{key, redisLeaseKey(key)}, claim).Err(); err != nil {
		return fmt.Errorf("redis idempotency abandon: %w (the claim lapses within its lease)", err)
	}
	return nil
}

// Close stops the renewals and closes the connections. Claims still held
// lapse within the lease, into unknown outcomes that a retry reconciles.
func (s *redisStore) Close() error {
	s.cancel()
	s.wg.Wait()
	return s.rdb.Close()
}

package store

import (
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Snapshots keeps the GET /clients listing snapshots (DESIGN.md §7): entries
// like a Cache's, each counted against an owner (the caller's identity), at
// most perOwner live per owner. A new snapshot beyond the bound drops the
// owner's oldest: a walk needs only its latest snapshot, and one whose
// snapshot is gone re-reads its ids on its next page (one packet, never a
// wrong page), so the bound costs only the caller who exceeds it.
type Snapshots interface {
	Get(ctx context.Context, key string) (Entry, bool, error)
	Put(ctx context.Context, owner, key string, e Entry, ttl time.Duration) error
}

// DefaultSnapshotsPerOwner is how many live listing snapshots one caller may
// hold: one per walk in progress, for far more concurrent walks than an
// honest client runs.
const DefaultSnapshotsPerOwner = 100

// NewSnapshots keeps snapshots in c, at most perOwner per owner
// (DefaultSnapshotsPerOwner when perOwner <= 0): across replicas when c is a
// Redis cache made by NewRedis, else counted in this process.
func NewSnapshots(c Cache, perOwner int) Snapshots {
	if perOwner <= 0 {
		perOwner = DefaultSnapshotsPerOwner
	}
	if rc, ok := c.(redisCache); ok {
		return redisSnapshots{cache: rc, perOwner: perOwner}
	}
	return &localSnapshots{c: c, perOwner: perOwner, owners: map[string]*list.List{}, live: map[string]*list.Element{}}
}

// localSnapshots counts each owner's snapshots in this process: a list per
// owner, oldest first, and the keys it still serves (a dropped snapshot is a
// miss even if c still holds it).
type localSnapshots struct {
	c        Cache
	perOwner int

	mu     sync.Mutex
	owners map[string]*list.List    // owner → its snapshots, oldest first
	live   map[string]*list.Element // key → its element
	ops    int                      // Puts since the last full sweep
}

type localSnapshot struct {
	owner, key string
	expires    time.Time
}

func (l *localSnapshots) Get(ctx context.Context, key string) (Entry, bool, error) {
	l.mu.Lock()
	_, ok := l.live[key]
	l.mu.Unlock()
	if !ok {
		return Entry{}, false, nil
	}
	return l.c.Get(ctx, key)
}

func (l *localSnapshots) Put(ctx context.Context, owner, key string, e Entry, ttl time.Duration) error {
	now := time.Now()
	var drop []string
	l.mu.Lock()
	if l.ops++; l.ops > len(l.live)/2+1024 {
		for _, o := range l.owners {
			drop = l.expire(o, now, drop)
		}
		l.ops = 0
	}
	o := l.owners[owner]
	if o == nil {
		o = list.New()
		l.owners[owner] = o
	}
	drop = l.expire(o, now, drop)
	for o.Len() >= l.perOwner {
		drop = l.remove(o, o.Front(), drop)
	}
	l.live[key] = o.PushBack(localSnapshot{owner: owner, key: key, expires: now.Add(ttl)})
	l.mu.Unlock()
	if d, ok := l.c.(interface{ Delete(string) }); ok {
		for _, k := range drop {
			d.Delete(k) // free the room at once (the memory cache is shared by every caller)
		}
	}
	return l.c.Set(ctx, key, e, ttl)
}

// expire drops o's expired snapshots; the caller holds mu.
func (l *localSnapshots) expire(o *list.List, now time.Time, drop []string) []string {
	for o.Len() > 0 && !now.Before(o.Front().Value.(localSnapshot).expires) {
		drop = l.remove(o, o.Front(), drop)
	}
	return drop
}

// remove forgets el of o; the caller holds mu.
func (l *localSnapshots) remove(o *list.List, el *list.Element, drop []string) []string {
	s := o.Remove(el).(localSnapshot)
	delete(l.live, s.key)
	if o.Len() == 0 {
		delete(l.owners, s.owner)
	}
	return append(drop, s.key)
}

// Delete removes key from the memory cache (localSnapshots' dropped snapshots).
func (m memoryCache) Delete(key string) { m.lru.Remove(key) }

// redisSnapshots keeps each owner's snapshot keys in a sorted set
// (pleskgate:listowner:<owner>) scored by expiry, which with one TTL for all
// is their age: the put script drops the expired and, beyond the bound, the
// oldest, atomically, so the bound holds across replicas.
type redisSnapshots struct {
	cache    redisCache
	perOwner int
}

// KEYS[1] snapshot, KEYS[2] owner set; ARGV[1] value, ARGV[2] ttl in ms,
// ARGV[3] now in ms, ARGV[4] per-owner limit. Returns how many were dropped.
var redisSnapshotPutScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4]) + 1
if over > 0 then
  for _, k in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do
    redis.call('DEL', k)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
else
  over = 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], tonumber(ARGV[3]) + tonumber(ARGV[2]), KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return over`)

func (r redisSnapshots) Get(ctx context.Context, key string) (Entry, bool, error) {
	return r.cache.Get(ctx, key)
}

func (r redisSnapshots) Put(ctx context.Context, owner, key string, e Entry, ttl time.Duration) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	err = redisSnapshotPutScript.Run(ctx, r.cache.s.rdb, []string{redisKey(key), redisKeyPrefix + "listowner:" + owner},
		data, max(ttl, time.Millisecond).Milliseconds(), time.Now().UnixMilli(), r.perOwner).Err()
	if err != nil {
		return fmt.Errorf("redis snapshot put: %w", err)
	}
	return nil
}

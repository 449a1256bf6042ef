package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"

	"github.com/pleskgate/pleskgate/translator"
)

// CacheEntry is one cached descriptor answer: the JSON body as served.
type CacheEntry struct {
	Body     []byte    `json:"body"`
	ETag     string    `json:"etag"`
	StoredAt time.Time `json:"stored_at"`
	Expires  time.Time `json:"expires"`
}

// CacheStore keeps cache entries; memory by default, Redis when configured.
type CacheStore interface {
	Get(ctx context.Context, key string) (CacheEntry, bool, error)
	Set(ctx context.Context, key string, e CacheEntry, ttl time.Duration) error
}

// memoryCache is the in-process CacheStore: an LRU whose entries expire after
// the TTL (hashicorp/golang-lru's expirable LRU).
type memoryCache struct {
	lru *expirable.LRU[string, CacheEntry]
}

// NewMemoryCache returns an in-memory store of at most size entries.
func NewMemoryCache(size int, ttl time.Duration) CacheStore {
	return memoryCache{lru: expirable.NewLRU[string, CacheEntry](size, nil, ttl)}
}

func (m memoryCache) Get(ctx context.Context, key string) (CacheEntry, bool, error) {
	e, ok := m.lru.Get(key)
	// Within a request, "now" is the request's one clock reading.
	if ok && requestTime(ctx).After(e.Expires) {
		return CacheEntry{}, false, nil
	}
	return e, ok, nil
}

func (m memoryCache) Set(_ context.Context, key string, e CacheEntry, _ time.Duration) error {
	m.lru.Add(key, e)
	return nil
}

// cacheOutcome is how a cached read was served, for Cache-Status and metrics.
type cacheOutcome int

const (
	cacheHit       cacheOutcome = iota + 1
	cacheMiss                   // fetched upstream and stored
	cacheCollapsed              // waited for another request's fetch
	cacheBypass                 // the store failed; fetched without it
)

func (o cacheOutcome) String() string {
	return [...]string{"", "hit", "miss", "collapsed", "bypass"}[o]
}

// descriptorCache serves descriptor reads from the store, fetching a missing
// entry once however many requests want it at the same moment (singleflight).
type descriptorCache struct {
	store   CacheStore
	ttl     time.Duration
	group   singleflight.Group
	observe func(outcome cacheOutcome) // metrics hook; may be nil
}

// get returns the entry for key, calling fetch on a miss.
func (c *descriptorCache) get(ctx context.Context, key string, fetch func(context.Context) ([]byte, error)) (CacheEntry, cacheOutcome, error) {
	e, ok, err := c.store.Get(ctx, key)
	storeOK := err == nil
	if ok && storeOK {
		c.note(cacheHit)
		return e, cacheHit, nil
	}
	res, err, shared := c.group.Do(key, func() (any, error) {
		// The fetch outlives any one caller that gives up; the upstream timeout bounds it.
		body, err := fetch(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		now := time.Now()
		e := CacheEntry{Body: body, ETag: etagOf(body), StoredAt: now, Expires: now.Add(c.ttl)}
		if storeOK {
			_ = c.store.Set(ctx, key, e, c.ttl)
		}
		return e, nil
	})
	if err != nil {
		return CacheEntry{}, cacheMiss, err
	}
	outcome := cacheMiss
	switch {
	case !storeOK:
		outcome = cacheBypass
	case shared:
		outcome = cacheCollapsed
	}
	c.note(outcome)
	return res.(CacheEntry), outcome, nil
}

func (c *descriptorCache) note(o cacheOutcome) {
	if c.observe != nil {
		c.observe(o)
	}
}

// cacheStatus renders an RFC 9211 Cache-Status header value.
func cacheStatus(o cacheOutcome, e CacheEntry) string {
	return cacheStatusTTL(o, ttlSeconds(e))
}

// cacheStatusTTL is cacheStatus for an entry with ttl whole seconds left.
func cacheStatusTTL(o cacheOutcome, ttl int) string {
	switch o {
	case cacheHit:
		return "pleskgate; hit; ttl=" + strconv.Itoa(ttl)
	case cacheCollapsed:
		return "pleskgate; fwd=miss; collapsed; ttl=" + strconv.Itoa(ttl)
	case cacheBypass:
		return "pleskgate; fwd=bypass; detail=store-unavailable"
	default:
		return "pleskgate; fwd=miss; stored; ttl=" + strconv.Itoa(ttl)
	}
}

// etagOf is a strong validator for a response body.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// descriptorKey names a cache entry: whose rights, which protocol, which filter.
func descriptorKey(identity, kind, version, filter string) string {
	return "pleskgate:descriptor:" + identity + ":" + kind + ":" + version + ":" + filter
}

// descriptorKeyMemoSize bounds the memo of descriptor cache keys.
const descriptorKeyMemoSize = 4096

// descKeyParts is what a descriptor cache key is made of (besides the
// upstream, fixed per server).
type descKeyParts struct {
	identity string
	kind     descriptorKind
	version  translator.Version
	clientID int64 // 0: the server-wide descriptor
}

// keyMemo remembers descriptor cache keys, so a cache hit builds no string:
// the key's parts are compared as a struct. Bounded; when full, a random
// entry makes room.
type keyMemo struct {
	keys *boundedMap[descKeyParts, string]
}

func newKeyMemo(max int) *keyMemo {
	return &keyMemo{keys: newBoundedMap[descKeyParts, string](max)}
}

// get returns the memoised key of p, building it with build on a miss.
func (m *keyMemo) get(p descKeyParts, build func(descKeyParts) string) string {
	if k, ok := m.keys.get(p); ok {
		return k
	}
	k := build(p)
	m.keys.put(p, k)
	return k
}

// hitMemoSize bounds the hit memo: the hottest descriptor entries, not all.
const hitMemoSize = 256

// hitMemo remembers the entries of recent descriptor reads by their key's
// parts, for the in-memory store only, so that a hit costs one lock-free
// map read: no key memo, no LRU lock, no clock reading of its own. An
// entry is served from it only until its Expires, as the store would; the
// store only ever gets a new entry for a key after the last one expired
// (descriptorCache.get stores on a miss), so the memo never holds an
// unexpired entry the store has replaced. A remembered entry outlives its
// eviction from the LRU by at most its TTL. Writes copy the map (rare:
// after a miss, or a hit the memo did not have); when it is full, expired
// entries make room, and while none has expired nothing new is added.
type hitMemo struct {
	m  atomic.Pointer[hitMap]
	mu sync.Mutex
}

type hitMap struct {
	entries    map[descKeyParts]*CacheEntry
	minExpires time.Time // earliest Expires among entries
}

// get returns the unexpired entry remembered for p at now, or nil.
func (h *hitMemo) get(p descKeyParts, now time.Time) *CacheEntry {
	if h == nil {
		return nil
	}
	m := h.m.Load()
	if m == nil {
		return nil
	}
	e := m.entries[p]
	if e == nil || now.After(e.Expires) {
		return nil
	}
	return e
}

// put remembers e for p.
func (h *hitMemo) put(p descKeyParts, e CacheEntry, now time.Time) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.m.Load()
	next := &hitMap{entries: make(map[descKeyParts]*CacheEntry, 1+hitMapLen(old))}
	if old != nil {
		full := len(old.entries) >= hitMemoSize
		if _, replaces := old.entries[p]; full && !replaces && !now.After(old.minExpires) {
			return // full of unexpired entries
		}
		for k, v := range old.entries {
			if full && now.After(v.Expires) {
				continue
			}
			next.entries[k] = v
		}
		if len(next.entries) >= hitMemoSize {
			if _, replaces := next.entries[p]; !replaces {
				return
			}
		}
	}
	next.entries[p] = &e
	for _, v := range next.entries {
		if next.minExpires.IsZero() || v.Expires.Before(next.minExpires) {
			next.minExpires = v.Expires
		}
	}
	h.m.Store(next)
}

func hitMapLen(m *hitMap) int {
	if m == nil {
		return 0
	}
	return len(m.entries)
}

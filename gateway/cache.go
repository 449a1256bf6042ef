package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/pleskgate/pleskgate/gateway/store"
)

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
	store   store.Cache
	ttl     time.Duration
	group   singleflight.Group
	observe func(outcome cacheOutcome) // metrics hook; may be nil
}

// get returns the entry for key, calling fetch on a miss.
func (c *descriptorCache) get(ctx context.Context, key string, fetch func(context.Context) ([]byte, error)) (store.Entry, cacheOutcome, error) {
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
		e := store.Entry{Body: body, ETag: etagOf(body), StoredAt: now, Expires: now.Add(c.ttl)}
		if storeOK {
			_ = c.store.Set(ctx, key, e, c.ttl)
		}
		return e, nil
	})
	if err != nil {
		return store.Entry{}, cacheMiss, err
	}
	outcome := cacheMiss
	switch {
	case !storeOK:
		outcome = cacheBypass
	case shared:
		outcome = cacheCollapsed
	}
	c.note(outcome)
	return res.(store.Entry), outcome, nil
}

func (c *descriptorCache) note(o cacheOutcome) {
	if c.observe != nil {
		c.observe(o)
	}
}

// cacheStatusTTL renders an RFC 9211 Cache-Status header value for an
// entry with ttl whole seconds left.
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

package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// IdempotencyRecord is what the store keeps for one key.
type IdempotencyRecord struct {
	Fingerprint string `json:"fingerprint"`
	Done        bool   `json:"done"` // false while a request with the key runs
	// Unknown (with Done): a write packet was sent and no answer came back
	// (upstream timeout, broken answer). The next request with the key and
	// the same fingerprint claims the record again and reconciles: it reads
	// back whether the write took effect before sending it again.
	Unknown bool                `json:"unknown,omitempty"`
	Status  int                 `json:"status"`
	Header  map[string][]string `json:"header"`
	Body    []byte              `json:"body"`
}

// DefaultIdempotencyPerOwner is how many live records one owner (a caller's
// identity) may hold: enough for any honest client's retries within the TTL,
// few enough that one tenant cannot crowd out the others.
const DefaultIdempotencyPerOwner = 1000

var (
	// ErrOwnerRecordsExhausted: the owner already holds the most live
	// records allowed; nothing was claimed.
	ErrOwnerRecordsExhausted = errors.New("the caller holds the most live Idempotency-Key records allowed")
	// ErrIdempotencyFull: the memory store holds its most records; nothing
	// was claimed (the store refuses rather than evict another caller's record).
	ErrIdempotencyFull = errors.New("the idempotency store is full")
)

// Idempotency keeps idempotency records; memory by default, Redis when configured.
//
// owner names the caller a record counts against (at most a bounded number
// of live records per owner); key is the record's full store key, which the
// caller builds to include the owner.
type Idempotency interface {
	// Begin claims key for a new request. When the key is already known it
	// returns the existing record and claimed=false — except a record whose
	// outcome is Unknown and whose fingerprint is fp: that one is claimed
	// again (claimed=true) and returned, so the request can reconcile it.
	// A claim beyond the owner's limit fails with ErrOwnerRecordsExhausted.
	Begin(ctx context.Context, owner, key, fingerprint string, ttl time.Duration) (existing IdempotencyRecord, claimed bool, err error)
	// Complete stores the final (or Unknown) record of a claimed key. When
	// it fails, the claim stays held: the caller decides what becomes of it
	// (Abandon, as the gateway does, or Release).
	Complete(ctx context.Context, owner, key string, rec IdempotencyRecord, ttl time.Duration) error
	// Release forgets a claimed key: its request executed nothing.
	Release(ctx context.Context, owner, key string) error
	// Abandon gives up a claimed key whose outcome could not be stored
	// (Complete failed): the key stays, as an Unknown outcome, so the next
	// request with its fingerprint claims it again and reconciles instead
	// of executing a second time.
	Abandon(ctx context.Context, owner, key string) error
}

// A claim whose request can no longer report back (Abandon, or in Redis a
// replica that died: its lease lapsed) is an unknown outcome, not a free
// key: Begin with the claim's fingerprint returns it as an Unknown record,
// claimed again, so the request reconciles (DESIGN.md §5).

// memoryIdempotency is the in-process store: records with expiry times
// under one lock, so Begin's check-and-claim is atomic, and a count of live
// records per owner. It never evicts a live record: when full (for the owner
// or altogether) it refuses the claim.
type memoryIdempotency struct {
	mu       sync.Mutex
	size     int // most records altogether
	perOwner int // most records per owner
	records  map[string]*memRecord
	owners   map[string]map[string]struct{} // owner → its keys
	ops      int                            // Begins since the last full sweep
}

type memRecord struct {
	rec     IdempotencyRecord
	owner   string
	expires time.Time
}

// NewMemoryIdempotency keeps at most size records, DefaultIdempotencyPerOwner
// per owner, for ttl each.
func NewMemoryIdempotency(size int, ttl time.Duration) Idempotency {
	return NewMemoryIdempotencyLimited(size, DefaultIdempotencyPerOwner)
}

// NewMemoryIdempotencyLimited keeps at most size records, perOwner per owner.
func NewMemoryIdempotencyLimited(size, perOwner int) Idempotency {
	if perOwner <= 0 {
		perOwner = DefaultIdempotencyPerOwner
	}
	return &memoryIdempotency{size: size, perOwner: perOwner, records: map[string]*memRecord{}, owners: map[string]map[string]struct{}{}}
}

// remove forgets key; the caller holds mu.
func (m *memoryIdempotency) remove(key string) {
	r := m.records[key]
	if r == nil {
		return
	}
	delete(m.records, key)
	if keys := m.owners[r.owner]; keys != nil {
		delete(keys, key)
		if len(keys) == 0 {
			delete(m.owners, r.owner)
		}
	}
}

// sweepOwner drops owner's expired records; the caller holds mu.
func (m *memoryIdempotency) sweepOwner(owner string, now time.Time) {
	for k := range m.owners[owner] {
		if r := m.records[k]; r != nil && !now.Before(r.expires) {
			m.remove(k)
		}
	}
}

// sweep drops every expired record; the caller holds mu.
func (m *memoryIdempotency) sweep(now time.Time) {
	for k, r := range m.records {
		if !now.Before(r.expires) {
			m.remove(k)
		}
	}
	m.ops = 0
}

func (m *memoryIdempotency) Begin(_ context.Context, owner, key, fp string, ttl time.Duration) (IdempotencyRecord, bool, error) {
	ttl = idemTTL(ttl)
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	// Expired records go lazily: a full sweep every len/2+1024 claims keeps
	// the cost per claim constant.
	if m.ops++; m.ops > len(m.records)/2+1024 {
		m.sweep(now)
	}
	if r := m.records[key]; r != nil {
		if now.Before(r.expires) {
			if r.rec.Done && r.rec.Unknown && r.rec.Fingerprint == fp {
				prev := r.rec
				r.rec = IdempotencyRecord{Fingerprint: fp}
				return prev, true, nil
			}
			return r.rec, false, nil
		}
		m.remove(key)
	}
	if len(m.owners[owner]) >= m.perOwner {
		if m.sweepOwner(owner, now); len(m.owners[owner]) >= m.perOwner {
			return IdempotencyRecord{}, false, ErrOwnerRecordsExhausted
		}
	}
	if m.size > 0 && len(m.records) >= m.size {
		if m.sweep(now); len(m.records) >= m.size {
			return IdempotencyRecord{}, false, ErrIdempotencyFull
		}
	}
	m.records[key] = &memRecord{rec: IdempotencyRecord{Fingerprint: fp}, owner: owner, expires: now.Add(ttl)}
	keys := m.owners[owner]
	if keys == nil {
		keys = map[string]struct{}{}
		m.owners[owner] = keys
	}
	keys[key] = struct{}{}
	return IdempotencyRecord{}, true, nil
}

func (m *memoryIdempotency) Complete(_ context.Context, owner, key string, rec IdempotencyRecord, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.records[key]
	if r == nil {
		// Expired while running: store it anyway (it spares a retry a
		// duplicate), counted against its owner.
		r = &memRecord{owner: owner}
		m.records[key] = r
		keys := m.owners[owner]
		if keys == nil {
			keys = map[string]struct{}{}
			m.owners[owner] = keys
		}
		keys[key] = struct{}{}
	}
	r.rec, r.expires = rec, time.Now().Add(idemTTL(ttl))
	return nil
}

func (m *memoryIdempotency) Release(_ context.Context, _, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remove(key)
	return nil
}

func (m *memoryIdempotency) Abandon(_ context.Context, _, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.records[key]; r != nil && !r.rec.Done {
		r.rec = lapsedRecord(r.rec.Fingerprint)
	}
	return nil
}

// lapsedRecord is what Begin returns for a claim that lapsed without a
// record: an unknown outcome, to reconcile.
func lapsedRecord(fp string) IdempotencyRecord {
	return IdempotencyRecord{Fingerprint: fp, Done: true, Unknown: true, Header: map[string][]string{}}
}

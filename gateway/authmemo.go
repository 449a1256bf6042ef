package gateway

import (
	"crypto/subtle"
	"hash/maphash"
	"sync/atomic"
	"unsafe"
)

// authEntry is what authenticate derived from one credential header value.
type authEntry struct {
	kind     byte   // which header, in which mode (memo* below)
	raw      string // the header value itself, compared in constant time
	creds    Credentials
	identity string // creds.Identity()
	caller   string // access log's caller field
	apiKey   APIKey // service mode: the caller's key
}

// Kinds of memoised header values: the same string means different things
// as a Basic header, a Plesk secret key or a gateway API key.
const (
	memoPassthroughBasic byte = 'b'
	memoPassthroughKey   byte = 'k'
	memoServiceKey       byte = 's'
)

// authMemoSize bounds the memo: callers beyond it evict others at random.
const authMemoSize = 1024

// authMemo is a small bounded map from a credential header value to what
// authenticate derived from it, so that a repeat caller skips base64, the
// SHA-256 identity and the API-key lookup. It is keyed by a seeded maphash
// of the value (the seed is random per process) and every hit is confirmed
// by comparing the whole value in constant time, so neither the map's
// probing nor the confirmation time depends on the secret's contents in a
// way a caller could use. When full, a random entry makes room.
type authMemo struct {
	seed    maphash.Seed
	entries *boundedMap[uint64, *authEntry]
	// last is the entry most recently found, tried first: a repeat caller
	// then costs one atomic load and the constant-time compare, not a
	// hash and the read lock's two writes to a shared counter.
	last atomic.Pointer[authEntry]
}

func newAuthMemo(max int) *authMemo {
	return &authMemo{seed: maphash.MakeSeed(), entries: newBoundedMap[uint64, *authEntry](max)}
}

func (m *authMemo) hash(kind byte, raw string) uint64 {
	var h maphash.Hash
	h.SetSeed(m.seed)
	_ = h.WriteByte(kind)
	_, _ = h.WriteString(raw)
	return h.Sum64()
}

// get returns the entry for raw, or nil.
func (m *authMemo) get(kind byte, raw string) *authEntry {
	if m == nil || raw == "" {
		return nil
	}
	if e := m.last.Load(); e != nil && e.kind == kind && subtle.ConstantTimeCompare(stringBytes(e.raw), stringBytes(raw)) == 1 {
		return e
	}
	e, _ := m.entries.get(m.hash(kind, raw))
	if e == nil || e.kind != kind || subtle.ConstantTimeCompare(stringBytes(e.raw), stringBytes(raw)) != 1 {
		return nil
	}
	m.last.Store(e)
	return e
}

// put remembers e for raw.
func (m *authMemo) put(kind byte, raw string, e *authEntry) {
	if m == nil || raw == "" {
		return
	}
	e.kind = kind
	// Keep a copy of the header value, not a slice of the request's memory.
	e.raw = string(append([]byte(nil), raw...))
	m.entries.put(m.hash(kind, raw), e)
}

// len reports how many entries the memo holds.
func (m *authMemo) len() int { return m.entries.len() }

// stringBytes views s as bytes without copying; the bytes are only read.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

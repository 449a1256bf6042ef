package gateway

import "sync"

// boundedMap is a small concurrent map of at most max entries: when full, a
// random entry makes room (Go's map iteration starts at random). The
// gateway's memos use it for values that are cheap to derive again, so
// losing one costs a recomputation, never correctness.
type boundedMap[K comparable, V any] struct {
	max int
	mu  sync.RWMutex
	m   map[K]V
}

func newBoundedMap[K comparable, V any](max int) *boundedMap[K, V] {
	return &boundedMap[K, V]{max: max, m: make(map[K]V, min(max, 1024))}
}

func (b *boundedMap[K, V]) get(k K) (V, bool) {
	b.mu.RLock()
	v, ok := b.m[k]
	b.mu.RUnlock()
	return v, ok
}

func (b *boundedMap[K, V]) put(k K, v V) {
	if b.max <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[k]; !ok && len(b.m) >= b.max {
		for old := range b.m {
			delete(b.m, old)
			break
		}
	}
	b.m[k] = v
}

func (b *boundedMap[K, V]) len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.m)
}

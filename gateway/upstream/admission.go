package upstream

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Busy is the kind of a request shed by admission: the queue was full or
// the wait would outlast the request's deadline. The gateway answers it
// with 503 upstream-busy and Retry-After.
const Busy ErrorKind = 100

// ErrBusy is wrapped by every Busy error.
var ErrBusy = errors.New("too many requests waiting for Plesk")

// admission bounds the packets in flight to the panel (DESIGN.md §7): at
// most limit at once, up to queue callers waiting in FIFO order, and no
// identity holding more than half the slots while another waits.
type admission struct {
	mu       sync.Mutex
	limit    int
	queue    int
	half     int
	inflight int
	per      map[string]int
	waiters  []*waiter
	avg      time.Duration // moving average of a slot's hold time

	observe func(inflight, queued int) // metrics hook, under mu
	shed    func()
}

type waiter struct {
	id    string
	ready chan struct{}
}

func newAdmission(limit, queue int, observe func(int, int), shed func()) *admission {
	if limit <= 0 {
		return nil
	}
	return &admission{limit: limit, queue: queue, half: max(1, limit/2), per: map[string]int{}, observe: observe, shed: shed}
}

// othersWaiting: a waiter of another identity is queued; a.mu held.
func (a *admission) othersWaiting(id string) bool {
	for _, w := range a.waiters {
		if w.id != id {
			return true
		}
	}
	return false
}

func (a *admission) take(id string) {
	a.inflight++
	a.per[id]++
}

func (a *admission) report() {
	if a.observe != nil {
		a.observe(a.inflight, len(a.waiters))
	}
}

func busyError() error { return &Error{Kind: Busy, Err: ErrBusy} }

// acquire waits for a slot; the release function must be called once.
func (a *admission) acquire(ctx context.Context, id string) (func(), error) {
	a.mu.Lock()
	if a.inflight < a.limit && len(a.waiters) == 0 || a.inflight < a.limit && a.per[id] < a.half {
		a.take(id)
		a.report()
		a.mu.Unlock()
		return a.releaser(id), nil
	}
	if len(a.waiters) >= a.queue || a.tooLate(ctx) {
		a.mu.Unlock()
		if a.shed != nil {
			a.shed()
		}
		return nil, busyError()
	}
	w := &waiter{id: id, ready: make(chan struct{})}
	a.waiters = append(a.waiters, w)
	a.report()
	a.mu.Unlock()
	select {
	case <-w.ready:
		return a.releaser(id), nil
	case <-ctx.Done():
		a.mu.Lock()
		for i, x := range a.waiters {
			if x == w {
				a.waiters = append(a.waiters[:i], a.waiters[i+1:]...)
				a.report()
				a.mu.Unlock()
				return nil, ctx.Err()
			}
		}
		a.mu.Unlock()
		a.releaser(id)() // granted just as ctx ended: pass the slot on
		return nil, ctx.Err()
	}
}

// tooLate: the expected wait (queue ahead / limit × average hold) exceeds
// the context's remaining budget; a.mu held.
func (a *admission) tooLate(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	if !ok || a.avg == 0 {
		return false
	}
	wait := a.avg * time.Duration(len(a.waiters)/a.limit+1)
	return time.Until(dl) < wait
}

func (a *admission) releaser(id string) func() {
	start := time.Now()
	var once sync.Once
	return func() { once.Do(func() { a.release(id, time.Since(start)) }) }
}

func (a *admission) release(id string, held time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.avg == 0 {
		a.avg = held
	} else {
		a.avg += (held - a.avg) / 8
	}
	a.inflight--
	if a.per[id]--; a.per[id] <= 0 {
		delete(a.per, id)
	}
	for a.inflight < a.limit && len(a.waiters) > 0 {
		i := 0
		for j, w := range a.waiters {
			if a.per[w.id] < a.half {
				i = j
				break
			}
		}
		w := a.waiters[i]
		a.waiters = append(a.waiters[:i], a.waiters[i+1:]...)
		a.take(w.id)
		close(w.ready)
	}
	a.report()
}

// admitTraced is acquire inside an "admission wait" span when tracing is
// on; a shed request is an event on it ("shed").
func (u *Client) admitTraced(ctx context.Context, id string) (func(), error) {
	if u.tracer == nil {
		return u.admit.acquire(ctx, id)
	}
	ctx, span := u.tracer.Start(ctx, "admission wait")
	defer span.End()
	release, err := u.admit.acquire(ctx, id)
	if err != nil {
		if errors.Is(err, ErrBusy) {
			span.AddEvent("shed", trace.WithAttributes(attribute.String("reason", "queue full or the wait would outlast the deadline")))
		}
		span.SetStatus(codes.Error, err.Error())
	}
	return release, err
}

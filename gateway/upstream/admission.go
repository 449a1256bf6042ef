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
// identity holding more than half the slots, or more than half the queue,
// while another waits. A slot is held until the panel answered or the
// attempt timed out, whether or not the caller is still there
// (Client.sendAdmitted): PHP finishes a packet after its client leaves.
type admission struct {
	mu        sync.Mutex
	limit     int
	queue     int
	half      int
	halfQueue int
	inflight  int
	per       map[string]int // slots held, by identity
	queued    map[string]int // waiters, by identity
	waiters   []*waiter
	avg       time.Duration // moving average of a slot's hold time

	observe func(inflight, queued int) // metrics hook, under mu
	shed    func()
}

type waiter struct {
	id    string
	ready chan struct{} // closed when granted a slot, or evicted (err set)
	err   error
}

func newAdmission(limit, queue int, observe func(int, int), shed func()) *admission {
	if limit <= 0 {
		return nil
	}
	return &admission{limit: limit, queue: queue, half: max(1, limit/2), halfQueue: max(1, queue/2),
		per: map[string]int{}, queued: map[string]int{}, observe: observe, shed: shed}
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
	s, err := a.acquireSlot(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.release, nil
}

// slot is a slot held: release it once the panel answered (its hold time
// counts in the average wait), or give it back unused (it does not).
type slot struct {
	a     *admission
	id    string
	start time.Time
	once  sync.Once
}

// release frees the slot after its packet: the time held is a sample of
// the average hold time that tooLate estimates waits with.
func (s *slot) release() { s.once.Do(func() { s.a.release(s.id, time.Since(s.start), true) }) }

// giveBack frees a slot that sent nothing: held for an instant, it says
// nothing of how long a packet holds one, and leaves the average alone.
func (s *slot) giveBack() { s.once.Do(func() { s.a.release(s.id, 0, false) }) }

// acquireSlot waits for a slot; it must be released or given back once.
func (a *admission) acquireSlot(ctx context.Context, id string) (*slot, error) {
	a.mu.Lock()
	if a.inflight < a.limit && len(a.waiters) == 0 || a.inflight < a.limit && a.per[id] < a.half {
		a.take(id)
		a.report()
		a.mu.Unlock()
		return a.slotFor(id), nil
	}
	if a.tooLate(ctx, id) || len(a.waiters) >= a.queue && !a.evictFor(id) {
		a.mu.Unlock()
		a.countShed()
		return nil, busyError()
	}
	w := &waiter{id: id, ready: make(chan struct{})}
	a.waiters = append(a.waiters, w)
	a.queued[id]++
	a.report()
	a.mu.Unlock()
	select {
	case <-w.ready:
		if w.err != nil {
			return nil, w.err
		}
		return a.slotFor(id), nil
	case <-ctx.Done():
		a.mu.Lock()
		for i, x := range a.waiters {
			if x == w {
				a.removeWaiter(i)
				a.report()
				a.mu.Unlock()
				return nil, ctx.Err()
			}
		}
		a.mu.Unlock()
		if w.err == nil {
			a.slotFor(id).giveBack() // granted just as ctx ended: pass the slot on
		}
		return nil, ctx.Err()
	}
}

func (a *admission) countShed() {
	if a.shed != nil {
		a.shed()
	}
}

// removeWaiter takes the i-th waiter out of the queue; a.mu held.
func (a *admission) removeWaiter(i int) *waiter {
	w := a.waiters[i]
	a.waiters = append(a.waiters[:i], a.waiters[i+1:]...)
	if a.queued[w.id]--; a.queued[w.id] <= 0 {
		delete(a.queued, w.id)
	}
	return w
}

// evictFor makes room in a full queue for id, which holds less than half
// of it, by shedding the newest waiter of an identity holding more than
// half: one caller may fill an otherwise empty queue, but not keep others
// out of it. a.mu held.
func (a *admission) evictFor(id string) bool {
	if a.queued[id] >= a.halfQueue {
		return false
	}
	for i := len(a.waiters) - 1; i >= 0; i-- {
		if w := a.waiters[i]; a.queued[w.id] > a.halfQueue {
			a.removeWaiter(i)
			w.err = busyError()
			close(w.ready)
			a.countShed()
			return true
		}
	}
	return false
}

// tooLate: the expected wait exceeds the context's remaining budget (its
// deadline; for a request that must be answered by a time, one attempt's
// timeout before it: Client.admitInTime). The wait
// counts the waiters served before id: its own, and those of identities
// holding less than half the slots; release skips a heavy identity's
// waiters while a light one waits, so a light caller does not wait for
// them. a.mu held.
func (a *admission) tooLate(ctx context.Context, id string) bool {
	dl, ok := ctx.Deadline()
	if !ok || a.avg == 0 {
		return false
	}
	ahead := len(a.waiters)
	if a.per[id] < a.half {
		ahead = 0
		for _, w := range a.waiters {
			if w.id == id || a.per[w.id] < a.half {
				ahead++
			}
		}
	}
	wait := a.avg * time.Duration(ahead/a.limit+1)
	return time.Until(dl) < wait
}

func (a *admission) slotFor(id string) *slot { return &slot{a: a, id: id, start: time.Now()} }

// release frees id's slot and grants it to the next waiter; sample: held
// is a packet's hold time, to count in the average.
func (a *admission) release(id string, held time.Duration, sample bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case !sample:
	case a.avg == 0:
		a.avg = held
	default:
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
		w := a.removeWaiter(i)
		a.take(w.id)
		close(w.ready)
	}
	a.report()
}

// admitTraced is acquire inside an "admission wait" span when tracing is
// on; a shed request is an event on it ("shed").
func (u *Client) admitTraced(ctx context.Context, id string) (*slot, error) {
	if u.tracer == nil {
		return u.admit.acquireSlot(ctx, id)
	}
	ctx, span := u.tracer.Start(ctx, "admission wait")
	defer span.End()
	s, err := u.admit.acquireSlot(ctx, id)
	if err != nil {
		if errors.Is(err, ErrBusy) {
			span.AddEvent("shed", trace.WithAttributes(attribute.String("reason", "queue full or the wait would outlast the deadline")))
		}
		span.SetStatus(codes.Error, err.Error())
	}
	return s, err
}

type answerByKey struct{}

// WithAnswerBy notes on ctx the time by which its caller must have the
// answer (the gateway: the server's write deadline, less a margin). A
// request that, while it waits for a slot or before a retry, has less than one
// attempt's timeout left is shed as Busy instead of being sent: the panel
// would do the work and nobody would hear of it. The wait for a slot ends
// then too (Client.admitInTime), not when the slot comes free.
func WithAnswerBy(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, answerByKey{}, t)
}

func answerBy(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(answerByKey{}).(time.Time)
	return t, ok
}

// AnswerBy is the time WithAnswerBy noted on ctx, if any.
func AnswerBy(ctx context.Context) (time.Time, bool) { return answerBy(ctx) }

// tooLateToSend: ctx must be answered before one more attempt could time out.
func (u *Client) tooLateToSend(ctx context.Context) bool {
	by, ok := answerBy(ctx)
	return ok && time.Until(by) < u.timeout
}

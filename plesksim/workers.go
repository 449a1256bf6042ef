package plesksim

import (
	"context"
	"sync"
)

// workerGate models a panel's PHP worker pool (Config.Workers): at most n
// packets are processed at once; the others wait for a worker in arrival
// (FIFO) order. A waiter whose client gives up leaves the queue.
type workerGate struct {
	mu      sync.Mutex
	n       int
	busy    int
	maxBusy int
	waiting []chan struct{}
	held    func(body []byte) // test hook: runs while a worker is held
}

func newWorkerGate(n int) *workerGate {
	if n <= 0 {
		return nil
	}
	return &workerGate{n: n}
}

// acquire takes a worker, waiting in FIFO order; false when ctx ends first.
func (g *workerGate) acquire(ctx context.Context) bool {
	g.mu.Lock()
	if g.busy < g.n && len(g.waiting) == 0 {
		g.take()
		g.mu.Unlock()
		return true
	}
	ch := make(chan struct{})
	g.waiting = append(g.waiting, ch)
	g.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		g.mu.Lock()
		for i, c := range g.waiting {
			if c == ch {
				g.waiting = append(g.waiting[:i], g.waiting[i+1:]...)
				g.mu.Unlock()
				return false
			}
		}
		g.mu.Unlock()
		// The worker was handed over just as ctx ended: pass it on.
		g.release()
		return false
	}
}

// take counts one more busy worker; g.mu held.
func (g *workerGate) take() {
	g.busy++
	if g.busy > g.maxBusy {
		g.maxBusy = g.busy
	}
}

// release frees a worker, handing it to the oldest waiter if any.
func (g *workerGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.waiting) > 0 {
		ch := g.waiting[0]
		g.waiting = g.waiting[1:]
		close(ch) // the worker passes on: busy stays the same
		return
	}
	g.busy--
}

// WorkerStats reports the busy workers now, the most ever busy at once and
// the packets waiting for a worker; all 0 without Config.Workers.
func (s *Server) WorkerStats() (busy, maxBusy, waiting int) {
	g := s.workers
	if g == nil {
		return 0, 0, 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.busy, g.maxBusy, len(g.waiting)
}

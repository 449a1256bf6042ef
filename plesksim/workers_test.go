package plesksim

import (
	"context"
	"fmt"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// TestWorkersFIFO: with Workers 2 and 10 concurrent packets held in their
// worker, at most 2 are processed at once and they get a worker in arrival
// order.
func TestWorkersFIFO(t *testing.T) {
	s := newSim(t, Config{Workers: 2})
	gate := make(chan struct{})
	var mu sync.Mutex
	var order []string
	login := regexp.MustCompile(`<login>([^<]*)</login>`)
	s.workers.held = func(body []byte) {
		mu.Lock()
		order = append(order, string(login.FindSubmatch(body)[1]))
		mu.Unlock()
		<-gate // the packet is slow until the test lets it go
	}
	recorded := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(order)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	var wg sync.WaitGroup
	var want []string
	for i := range 10 {
		name := fmt.Sprintf("w%d", i)
		want = append(want, name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := realPost(context.Background(), ts.URL, pk("1.6.9.1", addOp(name))); err != nil {
				t.Error(err)
			}
		}()
		// Wait until this packet holds a worker or waits for one, so that
		// arrival order is the loop's order.
		for {
			busy, _, waiting := s.WorkerStats()
			if busy+waiting == i+1 && (i >= 2 || recorded() == i+1) {
				break
			}
			runtime.Gosched()
		}
	}
	if busy, _, waiting := s.WorkerStats(); busy != 2 || waiting != 8 {
		t.Fatalf("busy %d waiting %d, want 2 and 8", busy, waiting)
	}
	for i := range 10 {
		gate <- struct{}{}
		// The freed worker goes to the next waiter; let it record itself
		// before another worker is freed, so the recorded order is the
		// order the workers were handed out.
		for recorded() < min(i+3, 10) {
			runtime.Gosched()
		}
	}
	wg.Wait()
	busy, maxBusy, waiting := s.WorkerStats()
	if maxBusy != 2 || busy != 0 || waiting != 0 {
		t.Fatalf("busy %d max %d waiting %d", busy, maxBusy, waiting)
	}
	if !slices.Equal(order, want) {
		t.Fatalf("served in order %v, want %v", order, want)
	}
	if len(s.Clients()) != 10 {
		t.Fatalf("%d clients added", len(s.Clients()))
	}
}

// TestWorkersGiveUp: a waiter whose client leaves gives up its place and
// the worker count stays right.
func TestWorkersGiveUp(t *testing.T) {
	g := newWorkerGate(1)
	if !g.acquire(context.Background()) {
		t.Fatal("first acquire")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if g.acquire(ctx) {
		t.Fatal("acquire with a done context while full")
	}
	g.release()
	if busy, _, waiting := (&Server{workers: g}).WorkerStats(); busy != 0 || waiting != 0 {
		t.Fatalf("busy %d waiting %d", busy, waiting)
	}
	if newWorkerGate(0) != nil {
		t.Fatal("0 workers is unbounded")
	}
}

package upstream

// The admission tests send writes: identical reads would share one flight
// (coalesce.go) and never queue.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func (a *admission) counts() (inflight, queued int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inflight, len(a.waiters)
}

func waitCounts(t *testing.T, a *admission, inflight, queued int) {
	t.Helper()
	for {
		i, q := a.counts()
		if i == inflight && q == queued {
			return
		}
		runtime.Gosched()
	}
}

// TestAdmissionBoundsPackets: 1,000 concurrent callers, Concurrency 8: the
// panel never sees more than 8 packets at once and every call succeeds.
func TestAdmissionBoundsPackets(t *testing.T) {
	var now, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := now.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(time.Millisecond)
		now.Add(-1)
		_, _ = io.WriteString(w, "<packet/>")
	}))
	t.Cleanup(srv.Close)
	var shed atomic.Int64
	u := New(Config{BaseURL: srv.URL, Timeout: 30 * time.Second, Concurrency: 8, Queue: 1000, ObserveShed: func() { shed.Add(1) }})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			creds := Credentials{Login: fmt.Sprintf("c%d", i%50), Password: "pw"}
			if _, err := u.send(context.Background(), creds, []byte("<packet/>"), false); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if peak.Load() > 8 || peak.Load() == 0 {
		t.Fatalf("panel saw %d packets at once, want ≤ 8", peak.Load())
	}
	if failed.Load() != 0 || shed.Load() != 0 {
		t.Fatalf("%d failed, %d shed", failed.Load(), shed.Load())
	}
	t.Logf("1000 callers: at most %d packets at once", peak.Load())
}

// blockingPanel answers each packet only when release gets a value, and
// records the login of each packet as it arrives.
func blockingPanel(t *testing.T) (*httptest.Server, chan struct{}, chan string) {
	release := make(chan struct{})
	arrived := make(chan string, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- r.Header.Get("HTTP_AUTH_LOGIN")
		<-release
		_, _ = io.WriteString(w, "<packet/>")
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv, release, arrived
}

// TestAdmissionShedsWhenQueueFull: with the slot taken and the queue full,
// the next call fails at once with Busy (no packet).
func TestAdmissionShedsWhenQueueFull(t *testing.T) {
	srv, release, arrived := blockingPanel(t)
	var shed atomic.Int64
	u := New(Config{BaseURL: srv.URL, Timeout: 30 * time.Second, Concurrency: 1, Queue: 1, ObserveShed: func() { shed.Add(1) }})
	creds := Credentials{Login: "a", Password: "pw"}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := u.send(context.Background(), creds, []byte("<packet/>"), false)
			errs <- err
		}()
	}
	<-arrived
	waitCounts(t, u.admit, 1, 1)
	_, err := u.send(context.Background(), creds, []byte("<packet/>"), false)
	var ue *Error
	if !errors.As(err, &ue) || ue.Kind != Busy || !errors.Is(err, ErrBusy) {
		t.Fatalf("full queue: %v", err)
	}
	if shed.Load() != 1 {
		t.Fatalf("shed %d", shed.Load())
	}
	release <- struct{}{}
	<-arrived
	release <- struct{}{}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestAdmissionShedsPastDeadline: a wait longer than the caller's budget is
// shed at once.
func TestAdmissionShedsPastDeadline(t *testing.T) {
	a := newAdmission(1, 10, nil, nil)
	rel, err := a.acquire(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	a.avg = time.Hour // a slot is held for an hour on average
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := a.acquire(ctx, "y"); !errors.Is(err, ErrBusy) {
		t.Fatalf("past deadline: %v", err)
	}
	rel()
	if i, q := a.counts(); i != 0 || q != 0 {
		t.Fatalf("inflight %d queued %d", i, q)
	}
}

// TestAdmissionFair: identity A holds every slot and queues more; when B
// waits, the next free slot goes to B, not to A's older waiters.
func TestAdmissionFair(t *testing.T) {
	srv, release, arrived := blockingPanel(t)
	u := New(Config{BaseURL: srv.URL, Timeout: 30 * time.Second, Concurrency: 4, Queue: 64})
	var wg sync.WaitGroup
	call := func(login string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := u.send(context.Background(), Credentials{Login: login, Password: "pw"}, []byte("<packet/>"), false); err != nil {
				t.Error(err)
			}
		}()
	}
	for range 4 {
		call("a")
	}
	for range 4 {
		if l := <-arrived; l != "a" {
			t.Fatalf("arrived %q", l)
		}
	}
	for i := range 10 {
		call("a")
		waitCounts(t, u.admit, 4, i+1)
	}
	call("b")
	waitCounts(t, u.admit, 4, 11)
	release <- struct{}{}
	if l := <-arrived; l != "b" {
		t.Fatalf("the freed slot went to %q, want b", l)
	}
	for range 14 {
		release <- struct{}{}
		if n := len(arrived); n > 0 {
			<-arrived
		}
	}
	go func() {
		for range arrived {
		}
	}()
	wg.Wait()
}

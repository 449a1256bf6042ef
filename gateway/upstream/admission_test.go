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

// TestAdmissionCountsUntilPanelAnswers: the panel, like PHP, finishes each
// packet after its client has left. 40 callers, arriving over 200 ms, hang up after 20 ms while
// each packet takes 200 ms: the panel still never sees more than
// Concurrency packets at once, and each caller gets its context's error at
// once.
func TestAdmissionCountsUntilPanelAnswers(t *testing.T) {
	var now, peak, served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := now.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(200 * time.Millisecond) // the work goes on whether the client is there or not
		now.Add(-1)
		served.Add(1)
		_, _ = io.WriteString(w, "<packet/>")
	}))
	t.Cleanup(srv.Close)
	u := New(Config{BaseURL: srv.URL, Timeout: 5 * time.Second, Concurrency: 4, Queue: 100})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 5 * time.Millisecond) // arriving over 200 ms
			ctx, hangUp := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, hangUp)
			_, err := u.send(ctx, Credentials{Login: fmt.Sprintf("c%d", i%10), Password: "pw"}, []byte("<packet/>"), false)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("caller that left: %v, want its context's error", err)
			}
		})
	}
	wg.Wait()
	waitCounts(t, u.admit, 0, 0) // every slot back once the panel answered
	if p := peak.Load(); p > 4 {
		t.Fatalf("the panel had %d packets in flight at once, want ≤ 4 (Concurrency)", p)
	}
	t.Logf("40 callers hanging up: at most %d packets at once, %d served", peak.Load(), served.Load())
}

// TestAdmissionNoRetryForAGoneCaller: a read whose caller left is not sent
// again after a failed attempt.
func TestAdmissionNoRetryForAGoneCaller(t *testing.T) {
	var packets atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		packets.Add(1)
		time.Sleep(100 * time.Millisecond)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	u := New(Config{BaseURL: srv.URL, Timeout: 5 * time.Second, Concurrency: 2, Queue: 10, RetryInitial: time.Millisecond})
	ctx, hangUp := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, hangUp)
	if _, err := u.send(ctx, Credentials{Login: "a", Password: "pw"}, []byte("<packet><get/></packet>"), true); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	waitCounts(t, u.admit, 0, 0)
	time.Sleep(50 * time.Millisecond) // a retry would have started by now
	if n := packets.Load(); n != 1 {
		t.Fatalf("%d packets for a caller that left, want 1 (no retries)", n)
	}
}

// TestAdmissionServesOthersWhileOneFloods: one identity keeps 100 packets
// going (Concurrency 8, Queue 64: it fills the queue); another identity's
// 20 spaced calls all get through.
func TestAdmissionServesOthersWhileOneFloods(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(20 * time.Millisecond)
		_, _ = io.WriteString(w, "<packet/>")
	}))
	t.Cleanup(srv.Close)
	u := New(Config{BaseURL: srv.URL, Timeout: 5 * time.Second, Concurrency: 8, Queue: 64})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := u.send(context.Background(), Credentials{Login: "flood", Password: "pw"}, []byte("<packet/>"), false); err != nil {
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	waitCounts(t, u.admit, 8, 64)
	ok := 0
	for range 20 {
		if _, err := u.send(context.Background(), Credentials{Login: "admin", Password: "pw"}, []byte("<packet/>"), false); err == nil {
			ok++
		}
		time.Sleep(15 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if ok != 20 {
		t.Fatalf("the administrator got %d of 20 calls through while another identity flooded", ok)
	}
}

// TestAdmissionTooLateCountsOnlyWhoGoesFirst: the wait estimate of a light
// caller counts no heavy caller's waiters, which it goes before.
func TestAdmissionTooLateCountsOnlyWhoGoesFirst(t *testing.T) {
	a := newAdmission(8, 64, nil, nil)
	var rels []func()
	for range 8 {
		rel, err := a.acquire(context.Background(), "heavy")
		if err != nil {
			t.Fatal(err)
		}
		rels = append(rels, rel)
	}
	for range 40 {
		go func() {
			if rel, err := a.acquire(context.Background(), "heavy"); err == nil {
				rel()
			}
		}()
	}
	waitCounts(t, a, 8, 40)
	a.mu.Lock()
	a.avg = time.Second // heavy's 40 waiters ahead would be 6 s
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	got := make(chan error, 1)
	go func() {
		rel, err := a.acquire(ctx, "light")
		if err == nil {
			rel()
		}
		got <- err
	}()
	for queued := false; !queued; {
		select {
		case err := <-got:
			t.Fatalf("light caller: %v before any slot was free, want to wait for the next one", err)
		default:
			_, q := a.counts()
			queued = q == 41
		}
	}
	rels[0]()
	if err := <-got; err != nil {
		t.Fatalf("light caller: %v, want the next slot", err)
	}
	for _, rel := range rels[1:] {
		rel()
	}
}

// TestAdmissionShedsWhatCannotBeAnsweredInTime: concurrency 1, 100 ms per
// add, a 200 ms attempt timeout and 22 concurrent adds that must be
// answered within 1.5 s (the server's write deadline, scaled down): a call
// granted a slot with less than one attempt's timeout left is shed as Busy
// and never sent; every packet sent is answered in time.
func TestAdmissionShedsWhatCannotBeAnsweredInTime(t *testing.T) {
	var packets atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		packets.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(100 * time.Millisecond)
		_, _ = io.WriteString(w, "<packet/>")
	}))
	t.Cleanup(srv.Close)
	u := New(Config{BaseURL: srv.URL, Timeout: 200 * time.Millisecond, Concurrency: 1, Queue: 64})
	by := time.Now().Add(1500 * time.Millisecond)
	ctx := WithAnswerBy(context.Background(), by)
	var ok, busy, late atomic.Int64
	var wg sync.WaitGroup
	for range 22 {
		wg.Go(func() {
			_, err := u.send(ctx, Credentials{Login: "a", Password: "pw"}, []byte("<packet><add/></packet>"), false)
			switch {
			case err == nil && time.Now().After(by):
				late.Add(1) // net/http would have cut the connection: an empty reply
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrBusy):
				busy.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	t.Logf("22 adds: %d answered in time, %d answered too late, %d shed; %d packets", ok.Load(), late.Load(), busy.Load(), packets.Load())
	if late.Load() != 0 || packets.Load() != ok.Load() || busy.Load() == 0 {
		t.Fatalf("%d answered after the write deadline, %d packets for %d answers in time; want 0 late and a packet only for each answer", late.Load(), packets.Load(), ok.Load())
	}
}

// TestAdmissionGiveBackLeavesAverage: slots given back unused (shed once
// granted, or granted just as the caller left) say nothing of how long a
// packet holds a slot: 50 of them leave the average hold time as it was.
// Before, each counted as a hold of about zero and dragged the average
// toward it, so tooLate stopped shedding what could not be answered.
func TestAdmissionGiveBackLeavesAverage(t *testing.T) {
	a := newAdmission(1, 10, nil, nil)
	a.avg = 100 * time.Millisecond
	for range 50 {
		s, err := a.acquireSlot(context.Background(), "x")
		if err != nil {
			t.Fatal(err)
		}
		s.giveBack()
	}
	// Granted just as the caller's context ended: the waiter passes the slot on.
	for range 50 {
		hold, err := a.acquireSlot(context.Background(), "x")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan *slot, 1)
		go func() { s, _ := a.acquireSlot(ctx, "y"); done <- s }()
		waitCounts(t, a, 1, 1)
		cancel()
		hold.giveBack() // grants y, whose context has ended: it sees one or the other first
		if s := <-done; s != nil {
			s.giveBack()
		}
		waitCounts(t, a, 0, 0)
	}
	if a.avg != 100*time.Millisecond {
		t.Fatalf("average hold %v after 100 slots given back unused, want 100ms unchanged", a.avg)
	}
}

// TestAdmissionAnswerByBoundsTheWait: concurrency 1, the slot held 300 ms,
// a request that must be answered within 400 ms and a 200 ms attempt
// timeout. Its packet must be sent within 200 ms, before the slot comes
// free: it is shed without waiting for it. When the average hold (300 ms)
// already says so, it is shed at once and never queued; when nothing is
// known of holds yet, it queues and is shed when the 200 ms are over, while
// the slot is still held. Before, the wait was measured against the answer
// time itself (400 ms): it queued, waited the 300 ms, then got 503.
func TestAdmissionAnswerByBoundsTheWait(t *testing.T) {
	var packets atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		packets.Add(1)
		_, _ = io.WriteString(w, "<packet/>")
	}))
	t.Cleanup(srv.Close)
	var queued atomic.Int64
	u := New(Config{BaseURL: srv.URL, Timeout: 200 * time.Millisecond, Concurrency: 1, Queue: 10,
		ObserveAdmission: func(_, q int) { queued.Store(max(queued.Load(), int64(q))) }})
	for _, known := range []bool{true, false} {
		queued.Store(0)
		u.admit.avg = 0
		if known {
			u.admit.avg = 300 * time.Millisecond
		}
		rel, err := u.admit.acquire(context.Background(), "other")
		if err != nil {
			t.Fatal(err)
		}
		var freed atomic.Bool
		go func() { time.Sleep(300 * time.Millisecond); freed.Store(true); rel() }()
		ctx := WithAnswerBy(context.Background(), time.Now().Add(400*time.Millisecond))
		_, err = u.send(ctx, Credentials{Login: "a", Password: "pw"}, []byte("<packet><add/></packet>"), false)
		if !errors.Is(err, ErrBusy) || !Unsent(err) {
			t.Fatalf("average hold known %v: %v, want Busy and unsent", known, err)
		}
		if freed.Load() {
			t.Fatalf("average hold known %v: shed only once the slot came free", known)
		}
		if known && queued.Load() != 0 {
			t.Fatalf("average hold 300 ms, a 200 ms wait left: queued, want shed at once")
		}
		waitCounts(t, u.admit, 0, 0)
	}
	if packets.Load() != 0 {
		t.Fatalf("%d packets sent, want none", packets.Load())
	}
}

package upstream

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

// coalescePanel holds every packet until release is closed and counts them.
func coalescePanel(t *testing.T) (*httptest.Server, chan struct{}, *atomic.Int64) {
	return coalescePanelOf(t, "")
}

// coalescePanelOf is coalescePanel answering answer ("" : the login in a packet).
func coalescePanelOf(t *testing.T, answer string) (*httptest.Server, chan struct{}, *atomic.Int64) {
	release := make(chan struct{})
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n.Add(1)
		<-release
		if answer != "" {
			_, _ = io.WriteString(w, answer)
			return
		}
		_, _ = io.WriteString(w, "<packet>"+r.Header.Get("HTTP_AUTH_LOGIN")+"</packet>")
	}))
	t.Cleanup(srv.Close)
	return srv, release, &n
}

// runConcurrent sends packet once per creds, concurrently, and lets the
// panel answer only when every caller is about to join a flight, the panel
// saw wantPackets packets, and a moment has passed for the last callers to
// get from the hook into the flight (singleflight says nothing of who
// waits; a straggler would make a second packet, failing the test).
func runConcurrent(t *testing.T, u *Client, creds []Credentials, packet string, readOnly bool, release chan struct{}, seen *atomic.Int64, wantPackets int64) []string {
	t.Helper()
	var wg sync.WaitGroup
	out := make([]string, len(creds))
	var joined atomic.Int64
	joiningHook = func() { joined.Add(1) }
	defer func() { joiningHook = nil }()
	for i, c := range creds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := u.send(context.Background(), c, []byte(packet), readOnly)
			if err != nil {
				t.Error(err)
			}
			out[i] = string(b)
		}()
	}
	want := int64(len(creds))
	if !readOnly {
		want = 0 // writes do not join flights
	}
	deadline := time.Now().Add(10 * time.Second)
	for joined.Load() < want || seen.Load() < wantPackets {
		if time.Now().After(deadline) {
			close(release)
			wg.Wait()
			t.Fatalf("after 10 s: %d of %d callers joined, the panel saw %d packets, want %d", joined.Load(), want, seen.Load(), wantPackets)
		}
		runtime.Gosched()
	}
	time.Sleep(200 * time.Millisecond)
	close(release)
	wg.Wait()
	return out
}

// TestCoalesceSameCaller: 50 concurrent identical reads by one caller make
// one packet, and each caller gets the answer.
func TestCoalesceSameCaller(t *testing.T) {
	srv, release, n := coalescePanel(t)
	u := New(Config{BaseURL: srv.URL, Timeout: 30 * time.Second})
	creds := make([]Credentials, 50)
	for i := range creds {
		creds[i] = Credentials{Login: "a", Password: "pw"}
	}
	out := runConcurrent(t, u, creds, "<packet><get/></packet>", true, release, n, 1)
	if n.Load() != 1 {
		t.Fatalf("%d packets for 50 identical reads, want 1", n.Load())
	}
	for _, o := range out {
		if o != "<packet>a</packet>" {
			t.Fatalf("answer %q", o)
		}
	}
}

// TestCoalesceNeverAcrossIdentities: the same read by two identities makes
// two packets, each answered with its own caller's answer.
func TestCoalesceNeverAcrossIdentities(t *testing.T) {
	srv, release, n := coalescePanel(t)
	u := New(Config{BaseURL: srv.URL, Timeout: 30 * time.Second})
	var creds []Credentials
	for range 10 {
		creds = append(creds, Credentials{Login: "a", Password: "pw"}, Credentials{Login: "b", Password: "pw"})
	}
	out := runConcurrent(t, u, creds, "<packet><get/></packet>", true, release, n, 2)
	if n.Load() != 2 {
		t.Fatalf("%d packets for two identities, want 2", n.Load())
	}
	for i, o := range out {
		if o != "<packet>"+creds[i].Login+"</packet>" {
			t.Fatalf("caller %s got %q", creds[i].Login, o)
		}
	}
}

// TestCoalesceNotWrites: writes are never shared.
func TestCoalesceNotWrites(t *testing.T) {
	srv, release, n := coalescePanel(t)
	u := New(Config{BaseURL: srv.URL, Timeout: 30 * time.Second})
	creds := make([]Credentials, 5)
	for i := range creds {
		creds[i] = Credentials{Login: "a", Password: "pw"}
	}
	runConcurrent(t, u, creds, "<packet><add/></packet>", false, release, n, 5)
	if n.Load() != 5 {
		t.Fatalf("%d packets for 5 writes", n.Load())
	}
}

// TestCoalesceKeysOnCaller: with Credentials.Caller set (the gateway's
// identity: per API key in service mode), reads with the same Plesk
// credentials but different callers are never shared; the same caller's are.
func TestCoalesceKeysOnCaller(t *testing.T) {
	srv, release, n := coalescePanel(t)
	u := New(Config{BaseURL: srv.URL, Timeout: 30 * time.Second})
	var creds []Credentials
	for range 10 {
		creds = append(creds, Credentials{Login: "svc", Password: "pw", Caller: "key-a"}, Credentials{Login: "svc", Password: "pw", Caller: "key-b"})
	}
	runConcurrent(t, u, creds, "<packet><get/></packet>", true, release, n, 2)
	if n.Load() != 2 {
		t.Fatalf("%d packets for two callers sharing Plesk credentials, want 2", n.Load())
	}
}

// TestCoalesceLeaderCallerLeaves: when the caller whose read leads a flight
// goes away while others wait on it, the leader gets its context's error and
// the followers, whose callers are still there, get the answer of the
// packet the panel is already working on: one packet in all, nobody left
// with the leader's cancellation. (Before the flight was detached from its
// leader, the followers sent the packet again: two packets.)
func TestCoalesceLeaderCallerLeaves(t *testing.T) {
	srv, release, seen := coalescePanel(t)
	u := New(Config{BaseURL: srv.URL, Timeout: 30 * time.Second})
	creds := Credentials{Login: "a", Password: "pw"}
	packet := []byte("<packet><get/></packet>")
	var joined atomic.Int64
	joiningHook = func() { joined.Add(1) }
	defer func() { joiningHook = nil }()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(); runtime.Gosched() {
			if time.Now().After(deadline) {
				close(release)
				t.Fatalf("after 10 s: %s (joined %d, packets %d)", what, joined.Load(), seen.Load())
			}
		}
	}

	leaderCtx, leave := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := u.send(leaderCtx, creds, packet, true)
		leaderErr <- err
	}()
	waitFor("the leader's packet reached the panel", func() bool { return seen.Load() == 1 })

	const followers = 10
	var wg sync.WaitGroup
	out := make([]string, followers)
	errs := make([]error, followers)
	for i := range followers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := u.send(context.Background(), creds, packet, true)
			out[i], errs[i] = string(b), err
		}()
	}
	waitFor("every follower joined the flight", func() bool { return joined.Load() == 1+followers })
	time.Sleep(200 * time.Millisecond) // from the hook into the flight

	leave()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader whose caller left: err %v, want context.Canceled", err)
	}
	close(release)
	wg.Wait()
	for i := range followers {
		if errs[i] != nil || out[i] != "<packet>a</packet>" {
			t.Fatalf("follower %d: %q, %v; want the answer", i, out[i], errs[i])
		}
	}
	if n := seen.Load(); n != 1 {
		t.Fatalf("%d packets, want 1 (the leader's, whose answer the followers share)", n)
	}
}

// TestCoalesceLeaderDeadline: when the deadline of the caller whose read
// leads a flight passes while others wait on it, the followers, whose
// callers are still there, get the answer of its packet: not the leader's
// timeout (a 504 for callers with time left), with or without admission,
// and no second packet.
func TestCoalesceLeaderDeadline(t *testing.T) {
	for _, concurrency := range []int{0, 4} {
		t.Run(fmt.Sprintf("concurrency %d", concurrency), func(t *testing.T) {
			srv, release, seen := coalescePanel(t)
			u := New(Config{BaseURL: srv.URL, Timeout: 30 * time.Second, Concurrency: concurrency, Queue: 10})
			creds := Credentials{Login: "a", Password: "pw"}
			packet := []byte("<packet><get/></packet>")
			var joined atomic.Int64
			joiningHook = func() { joined.Add(1) }
			defer func() { joiningHook = nil }()
			waitFor := func(what string, ok func() bool) {
				t.Helper()
				for deadline := time.Now().Add(10 * time.Second); !ok(); runtime.Gosched() {
					if time.Now().After(deadline) {
						close(release)
						t.Fatalf("after 10 s: %s (joined %d, packets %d)", what, joined.Load(), seen.Load())
					}
				}
			}
			leaderCtx, stop := context.WithTimeout(context.Background(), 2*time.Second)
			defer stop()
			leaderErr := make(chan error, 1)
			go func() {
				_, err := u.send(leaderCtx, creds, packet, true)
				leaderErr <- err
			}()
			waitFor("the leader's packet reached the panel", func() bool { return seen.Load() == 1 })
			const followers = 5
			var wg sync.WaitGroup
			out := make([]string, followers)
			errs := make([]error, followers)
			for i := range followers {
				wg.Go(func() {
					b, err := u.send(context.Background(), creds, packet, true)
					out[i], errs[i] = string(b), err
				})
			}
			waitFor("every follower joined the flight", func() bool { return joined.Load() == 1+followers })
			if err := <-leaderErr; !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("leader past its deadline: err %v, want its deadline", err)
			}
			close(release)
			wg.Wait()
			for i := range followers {
				if errs[i] != nil || out[i] != "<packet>a</packet>" {
					t.Fatalf("follower %d: %q, %v; want the answer", i, out[i], errs[i])
				}
			}
			if n := seen.Load(); n != 1 {
				t.Fatalf("%d packets, want 1 (the leader's, whose answer the followers share)", n)
			}
		})
	}
}

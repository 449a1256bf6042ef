package upstream

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/translator"
)

// TestAnswerBudgetHeldWhileDecoding: an answer being decoded still counts
// against the answer budget (decoding costs several times its bytes), so
// while a 700 KB answer is decoded under a 1 MiB budget, another 700 KB
// answer waits for room (here until its caller's deadline) instead of
// being read. Issue 26 medium 7: three 50 MB answers were read one after
// the other, then decoded all at once.
func TestAnswerBudgetHeldWhileDecoding(t *testing.T) {
	var big strings.Builder
	big.WriteString(`<packet version="1.6.9.1"><customer><get>`)
	for i := 1; big.Len() < 700<<10; i++ {
		fmt.Fprintf(&big, `<result><status>ok</status><filter-id>%d</filter-id><id>%d</id><data><gen_info><pname>Client %d</pname></gen_info></data></result>`, i, i, i)
	}
	big.WriteString(`</get></customer></packet>`)
	answer := big.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	u := New(Config{BaseURL: srv.URL, Timeout: 5 * time.Second, RetryMax: -1, MaxBodySize: 1 << 20, AnswerBudget: 1 << 20})
	v := translator.MustParseVersion("1.6.9.1")
	var during error
	results := 0
	err := u.CallGet(context.Background(), Credentials{Login: "a", Password: "pw"}, v, &translator.GetRequest{Filter: translator.ByOwnerLogin("a"), GenInfo: true},
		func(translator.GetResult) error {
			if results++; results == 1 {
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				defer cancel()
				_, during = u.send(ctx, Credentials{Login: "b", Password: "pw"}, []byte("<packet/>"), true)
			}
			return nil
		})
	if err != nil || results < 100 {
		t.Fatalf("the decoded answer: %v, %d results", err, results)
	}
	if !isTimeout(during) {
		t.Fatalf("700 KB read while a 700 KB answer of a 1 MiB budget was decoded: %v, want a timeout waiting for room", during)
	}
	if _, err := u.send(context.Background(), Credentials{Login: "b", Password: "pw"}, []byte("<packet/>"), true); err != nil {
		t.Fatalf("once decoded: %v", err)
	}
}

// TestChunkedAnswersDoNotDeadlock: answers without a Content-Length grow
// their reservation as they are read. Four 600 KB answers under a 1 MiB
// budget each hold part of it when all want more; a reader that waited
// while holding its part would wait for the others forever (until the
// attempt's timeout: 504s, then retries). Each is read.
func TestChunkedAnswersDoNotDeadlock(t *testing.T) {
	const n = 4
	var firstHalves sync.WaitGroup
	firstHalves.Add(n)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(make([]byte, 300<<10))
		w.(http.Flusher).Flush()
		firstHalves.Done()
		firstHalves.Wait() // every reader holds part of the budget
		_, _ = w.Write(make([]byte, 300<<10))
	}))
	t.Cleanup(srv.Close)
	u := New(Config{BaseURL: srv.URL, Timeout: 10 * time.Second, RetryMax: -1, MaxBodySize: 1 << 20, AnswerBudget: 1 << 20})
	errs := make(chan error, n)
	for i := range n {
		go func() {
			body, err := u.send(context.Background(), Credentials{Login: strconv.Itoa(i), Password: "pw"}, []byte("<packet/>"), true)
			if err == nil && len(body) != 600<<10 {
				err = fmt.Errorf("%d bytes read", len(body))
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("four 600 KB chunked answers under a 1 MiB budget: %v", err)
		}
	}
}

// TestAnswerBoundsDefaults: by default an answer may be 16 MiB and answers
// being read or decoded 32 MiB in all, which keeps a hostile panel's
// answers within a 256Mi pod (decoding costs about four times an answer's
// bytes; docs/BENCHMARKS.md §16). At 64 MiB each, three 50 MB answers
// peaked at 330–375 MiB.
func TestAnswerBoundsDefaults(t *testing.T) {
	u := New(Config{BaseURL: "http://127.0.0.1:1"})
	if u.maxBody != 16<<20 {
		t.Fatalf("largest answer %d, want 16 MiB", u.maxBody)
	}
	if !u.budget.TryAcquire(32<<20) || u.budget.TryAcquire(1) {
		t.Fatal("the answer budget is not 32 MiB")
	}
}

// countingTransport counts, per caller (HTTP_AUTH_LOGIN), the answer bytes
// read from the panel, and the peak of those read by calls not yet over.
type countingTransport struct {
	mu         sync.Mutex
	live, peak int64
	per        map[string]int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, c: c, who: r.Header["HTTP_AUTH_LOGIN"][0]}
	}
	return resp, err
}

func (c *countingTransport) done(who string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live -= c.per[who]
	delete(c.per, who)
}

type countingBody struct {
	io.ReadCloser
	c   *countingTransport
	who string
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.mu.Lock()
	b.c.per[b.who] += int64(n)
	b.c.live += int64(n)
	b.c.peak = max(b.c.peak, b.c.live)
	b.c.mu.Unlock()
	return n, err
}

// TestAnswerBudgetHeldFromReadToDecode: an answer read but not yet decoded
// still counts against the answer budget. Four concurrent 600 KB answers
// under a 1 MiB budget, the first decode held a while: at no moment are
// more answer bytes read and not yet decoded than the budget. Before, the
// reading reservation ended when the read did and decoding queued for it
// again behind the other readers: all four answers were read while the
// first was decoded (2.4 MB under a 1 MiB budget).
func TestAnswerBudgetHeldFromReadToDecode(t *testing.T) {
	var big strings.Builder
	big.WriteString(`<packet version="1.6.9.1"><customer><get>`)
	results := 0
	for big.Len() < 600<<10 {
		results++
		fmt.Fprintf(&big, `<result><status>ok</status><filter-id>%d</filter-id><id>%d</id><data><gen_info><pname>Client %d</pname></gen_info></data></result>`, results, results, results)
	}
	big.WriteString(`</get></customer></packet>`)
	answer := big.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	counting := &countingTransport{per: map[string]int64{}}
	u := New(Config{BaseURL: srv.URL, Timeout: 10 * time.Second, RetryMax: -1, MaxBodySize: 1 << 20, AnswerBudget: 1 << 20, Transport: counting})
	v := translator.MustParseVersion("1.6.9.1")
	var hold sync.Once
	var wg sync.WaitGroup
	for i := range 4 {
		who := strconv.Itoa(i)
		wg.Go(func() {
			seen := 0
			err := u.CallGet(context.Background(), Credentials{Login: who, Password: "pw"}, v, &translator.GetRequest{Filter: translator.ByOwnerLogin("a"), GenInfo: true},
				func(translator.GetResult) error {
					hold.Do(func() { time.Sleep(300 * time.Millisecond) }) // the others read, if they may
					if seen++; seen == results {
						counting.done(who) // decoded (before CallGet gives its bytes back)
					}
					return nil
				})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if counting.peak > 1<<20 {
		t.Fatalf("%d KB of answers read and not yet decoded at once under a 1 MiB budget", counting.peak>>10)
	}
}

// TestDecodeWaitEndsAtAnswerBy: two callers share one 700 KB answer under
// a 1 MiB budget; the one that decodes it first is held, so the other,
// which decodes its own copy, waits for room. Its request must be answered
// by a time (WithAnswerBy; its context has no deadline): the wait ends
// then, with a Timeout, while the first still decodes, and it is not
// recorded as a transport error (the panel answered well; the caller that
// decoded records the packet). Before, it waited for as long as the first
// decoded, and a wait that failed was recorded as the packet's transport
// error.
func TestDecodeWaitEndsAtAnswerBy(t *testing.T) {
	var big strings.Builder
	big.WriteString(`<packet version="1.6.9.1"><customer><get>`)
	for i := 1; big.Len() < 700<<10; i++ {
		fmt.Fprintf(&big, `<result><status>ok</status><filter-id>%d</filter-id><id>%d</id><data><gen_info><pname>Client %d</pname></gen_info></data></result>`, i, i, i)
	}
	big.WriteString(`</get></customer></packet>`)
	answer := big.String()
	srv, release, seen := coalescePanelOf(t, answer)
	var mu sync.Mutex
	var outcomes []string
	u := New(Config{BaseURL: srv.URL, Timeout: 10 * time.Second, RetryMax: -1, MaxBodySize: 1 << 20, AnswerBudget: 1 << 20,
		ObserveCall: func(_, outcome string, _ int, _ time.Duration) {
			mu.Lock()
			outcomes = append(outcomes, outcome)
			mu.Unlock()
		}})
	v := translator.MustParseVersion("1.6.9.1")
	creds := Credentials{Login: "a", Password: "pw"}
	req := &translator.GetRequest{Filter: translator.ByOwnerLogin("a"), GenInfo: true}
	var joined atomic.Int64
	joiningHook = func() { joined.Add(1) }
	defer func() { joiningHook = nil }()

	by := time.Now().Add(1500 * time.Millisecond)
	var hold sync.Once
	letGo := make(chan struct{})
	errs := make(chan error, 2)
	call := func() {
		errs <- u.CallGet(WithAnswerBy(context.Background(), by), creds, v, req, func(translator.GetResult) error {
			hold.Do(func() { <-letGo }) // the first to decode holds the answer's room
			return nil
		})
	}
	go call()
	for seen.Load() < 1 {
		runtime.Gosched()
	}
	go call()
	for joined.Load() < 2 {
		runtime.Gosched()
	}
	time.Sleep(200 * time.Millisecond) // from the hook into the flight
	close(release)
	var first error
	held := true
	select {
	case first = <-errs:
	case <-time.After(10 * time.Second):
		held = false
	}
	close(letGo)
	if !held {
		first = <-errs
	}
	second := <-errs
	if !held || !isTimeout(first) || second != nil {
		t.Fatalf("two callers, answer by 1.5 s, one decoding (held): the other %v (first still decoding: %v), the decoder %v; want a Timeout while the first decodes, and the answer", first, held, second)
	}
	if seen.Load() != 1 {
		t.Fatalf("%d packets, want 1 (coalesced)", seen.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(outcomes) != 1 || outcomes[0] != "ok" {
		t.Fatalf("outcomes recorded %v, want only the decoder's ok", outcomes)
	}
}

package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/plesksim"
	"github.com/pleskgate/pleskgate/translator"
)

// TestPeakGauge: the peak is the most in progress at once, reset starts
// from what is in progress now.
func TestPeakGauge(t *testing.T) {
	var g peakGauge
	g.enter()
	g.enter()
	g.enter()
	g.leave()
	g.enter()
	g.leave()
	if g.peak.Load() != 3 || g.now.Load() != 2 || g.total.Load() != 4 {
		t.Fatalf("peak %d now %d total %d, want 3 2 4", g.peak.Load(), g.now.Load(), g.total.Load())
	}
	g.reset()
	if g.peak.Load() != 2 || g.total.Load() != 0 {
		t.Fatalf("after reset: peak %d total %d, want 2 0", g.peak.Load(), g.total.Load())
	}
	g.leave()
	g.leave()
	if !g.waitIdle(time.Second) {
		t.Fatal("waitIdle with nothing in progress")
	}
}

// TestSlowPanelFinishesAfterTheClientLeft: a caller that hangs up does not
// stop the packet (as PHP does not): the simulator still runs it, and the
// gauge counts it until then.
func TestSlowPanelFinishesAfterTheClientLeft(t *testing.T) {
	sim, err := plesksim.New(plesksim.Config{AdminLogin: adminLogin, AdminPassword: adminPassword})
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan struct{}, 1)
	var g peakGauge
	release := make(chan struct{})
	srv := httptest.NewServer(slowPanel(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // the caller has gone by now
		if r.Context().Err() != nil {
			t.Error("the packet runs on the caller's context")
		}
		sim.ServeHTTP(w, r)
		ran <- struct{}{}
	}), 0, &g))
	defer srv.Close()
	packet, err := translator.EncodeRequest(newestVersion(sim), &translator.AddRequest{Client: translator.NewClient{Name: "Late", Login: "late01", Password: "late-Pass1"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+plesksim.AgentPath, strings.NewReader(string(packet)))
	req.Header["HTTP_AUTH_LOGIN"] = []string{adminLogin}
	req.Header["HTTP_AUTH_PASSWD"] = []string{adminPassword}
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for g.now.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller: %v, want it to have hung up", err)
	}
	close(release)
	<-ran
	g.waitIdle(10 * time.Second)
	if len(sim.Clients()) != 1 || g.peak.Load() != 1 || g.total.Load() != 1 {
		t.Fatalf("%d clients, peak %d, total %d: want the add run once after the caller left", len(sim.Clients()), g.peak.Load(), g.total.Load())
	}
}

func TestTally(t *testing.T) {
	var tl tally
	if tl.String() != "none" {
		t.Fatalf("empty: %q", tl.String())
	}
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			tl.add(map[bool]string{true: "200", false: "503"}[i%3 == 0])
		})
	}
	wg.Wait()
	tl.add("hung up")
	if got, want := tl.String(), "20 × 503, 10 × 200, 1 × hung up"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	if tl.get("200") != 10 || tl.get("404") != 0 {
		t.Fatalf("get: %d %d", tl.get("200"), tl.get("404"))
	}
}

func TestOutcome(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
	}
	if got := outcome(resp, err); got != "503" {
		t.Fatalf("%q, want 503", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow", nil)
	resp, err = http.DefaultClient.Do(req)
	if got := outcome(resp, err); got != "hung up" {
		t.Fatalf("%q (%v), want hung up", got, err)
	}
	if got := outcome(nil, errors.New("connection refused")); got != "error" {
		t.Fatalf("%q, want error", got)
	}
}

// TestSeedAs: a reseller's clients are its own, and the ids returned are
// exactly the clients added.
func TestSeedAs(t *testing.T) {
	sim, err := plesksim.New(plesksim.Config{AdminLogin: adminLogin, AdminPassword: adminPassword,
		Resellers: []plesksim.Account{{Login: floodReseller, Password: floodResellerPassword}}})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := seedAs(sim, adminLogin, adminPassword, "adm", 3)
	if err != nil {
		t.Fatal(err)
	}
	res, err := seedAs(sim, floodReseller, floodResellerPassword, "flood", 150)
	if err != nil {
		t.Fatal(err)
	}
	if len(admin) != 3 || len(res) != 150 {
		t.Fatalf("%d and %d ids", len(admin), len(res))
	}
	owners := map[int]string{}
	for _, c := range sim.Clients() {
		owners[c.ID] = c.OwnerLogin
	}
	for _, id := range admin {
		if owners[id] != adminLogin {
			t.Fatalf("client %d owned by %q", id, owners[id])
		}
	}
	for _, id := range res {
		if owners[id] != floodReseller {
			t.Fatalf("client %d owned by %q", id, owners[id])
		}
	}
}

// TestBigAnswerDecodes: both shapes are answers the translator takes
// whole, with the client asked for first, and are about the size asked
// for.
func TestBigAnswerDecodes(t *testing.T) {
	v := translator.MustParseVersion("1.6.9.1")
	for _, shape := range []string{"results", "text"} {
		b := newBigAnswer(shape, 200_000)
		body := b.forID(42)
		if len(body) < 200_000 || len(body) > 201_000 {
			t.Fatalf("%s: %d bytes, want about 200,000", shape, len(body))
		}
		req := &translator.GetRequest{Filter: translator.ByID(42), GenInfo: true}
		replies, err := translator.DecodeResponse(v, body, req)
		if err != nil {
			t.Fatalf("%s: %v", shape, err)
		}
		rs := replies[0].(*translator.GetReply).Results
		if len(rs) != b.results || rs[0].Result.ID != 42 || rs[0].Client == nil {
			t.Fatalf("%s: %d results (want %d), first %+v", shape, len(rs), b.results, rs[0].Result)
		}
		if shape == "results" && b.results < 200 {
			t.Fatalf("results: %d results in 200 KB", b.results)
		}
		if shape == "text" && len(rs[0].Client.Company) < 199_000 {
			t.Fatalf("text: company of %d bytes", len(rs[0].Client.Company))
		}
	}
}

// TestNestedAnswer: shallow nesting is an answer, nesting past the
// translator's bound is refused whole, and each level costs 7 bytes.
func TestNestedAnswer(t *testing.T) {
	v := translator.MustParseVersion("1.6.9.1")
	req := &translator.GetRequest{Filter: translator.ByID(7), GenInfo: true}
	if _, err := translator.DecodeResponse(v, nestedAnswer(7, 10), req); err != nil {
		t.Fatalf("10 levels: %v", err)
	}
	if _, err := translator.DecodeResponse(v, nestedAnswer(7, 1000), req); err == nil {
		t.Fatal("1,000 levels decoded")
	}
	if d := len(nestedAnswer(7, 2000)) - len(nestedAnswer(7, 1000)); d != 7000 {
		t.Fatalf("1,000 levels more cost %d bytes, want 7,000", d)
	}
}

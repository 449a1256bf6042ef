package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/plesksim"
	"github.com/pleskgate/pleskgate/translator"
)

// TestReadsWholeAnswer: an answer announced by Content-Length is
// read whole into the buffer sized from it.
func TestReadsWholeAnswer(t *testing.T) {
	answer := strings.Repeat("<x>answer</x>", 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	u := New(Config{BaseURL: srv.URL, Timeout: 5 * time.Second})
	body, err := u.send(context.Background(), Credentials{}, []byte("<packet/>"), true)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != answer {
		t.Fatalf("answer %.40q…", body)
	}
}

// TestCredentialsHeaders: a login travels as HTTP_AUTH_LOGIN and
// HTTP_AUTH_PASSWD, a secret key as KEY, and the packet as text/xml.
func TestCredentialsHeaders(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		_, _ = io.WriteString(w, "<packet/>")
	}))
	t.Cleanup(srv.Close)
	u := New(Config{BaseURL: srv.URL + "/", Timeout: 5 * time.Second})
	if u.Endpoint() != srv.URL+"/enterprise/control/agent.php" {
		t.Fatalf("endpoint %q", u.Endpoint())
	}
	ctx := context.Background()
	if _, err := u.send(ctx, Credentials{Login: "admin", Password: "pw"}, []byte("<packet/>"), true); err != nil {
		t.Fatal(err)
	}
	if got.Get("HTTP_AUTH_LOGIN") != "admin" || got.Get("HTTP_AUTH_PASSWD") != "pw" || got.Get("KEY") != "" || got.Get("Content-Type") != "text/xml; charset=UTF-8" {
		t.Fatalf("login headers %v", got)
	}
	if _, err := u.send(ctx, Credentials{Key: "k1"}, []byte("<packet/>"), true); err != nil {
		t.Fatal(err)
	}
	if got.Get("KEY") != "k1" || got.Get("HTTP_AUTH_LOGIN") != "" {
		t.Fatalf("key headers %v", got)
	}
	for _, c := range []struct {
		creds Credentials
		want  string
	}{
		{Credentials{Key: "secret"}, "key:[redacted]"},
		{Credentials{Login: "admin", Password: "secret"}, "login:admin:[redacted]"},
		{Credentials{}, "anonymous"},
	} {
		if s := c.creds.String(); s != c.want || strings.Contains(s, "secret") {
			t.Errorf("String() = %q, want %q", s, c.want)
		}
	}
}

// TestRedirectIsNotFollowed: a panel answering a redirect (to another host,
// with any status) gets a BadStatus carrying that status; nothing reaches
// the place it points to, so the credentials' headers never leave for it.
func TestRedirectIsNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		_, _ = io.WriteString(w, "<packet/>")
	}))
	t.Cleanup(other.Close)
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		panel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/enterprise/control/agent.php", status)
		}))
		u := New(Config{BaseURL: panel.URL, Timeout: 5 * time.Second, RetryMax: -1})
		_, err := u.send(context.Background(), Credentials{Login: "admin", Password: "pw"}, []byte("<packet/>"), true)
		panel.Close()
		var ue *Error
		if !errors.As(err, &ue) || ue.Kind != BadStatus || ue.Status != status {
			t.Fatalf("a %d redirect gave %v, want BadStatus %d", status, err, status)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("%d packets followed a redirect to another server", n)
	}
}

// TestURLUserinfoIsBasicAuth: a BaseURL with userinfo (a front proxy's
// login) sends it as HTTP Basic authentication with every packet, beside
// Plesk's own headers, as it did when packets went through an http.Client.
func TestURLUserinfoIsBasicAuth(t *testing.T) {
	var user, pass, login string
	var ok bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok = r.BasicAuth()
		login = r.Header.Get("HTTP_AUTH_LOGIN")
		_, _ = io.WriteString(w, "<packet/>")
	}))
	t.Cleanup(srv.Close)
	u := New(Config{BaseURL: strings.Replace(srv.URL, "http://", "http://gwuser:s3cret%40pw@", 1), Timeout: 5 * time.Second})
	if _, err := u.send(context.Background(), Credentials{Login: "admin", Password: "pw"}, []byte("<packet/>"), true); err != nil {
		t.Fatal(err)
	}
	if !ok || user != "gwuser" || pass != "s3cret@pw" || login != "admin" {
		t.Fatalf("basic auth %v %q %q, HTTP_AUTH_LOGIN %q", ok, user, pass, login)
	}
	u = New(Config{BaseURL: srv.URL, Timeout: 5 * time.Second})
	if _, err := u.send(context.Background(), Credentials{Key: "k"}, []byte("<packet/>"), true); err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatal("basic auth sent for a URL without userinfo")
	}
}

// TestRetriesOnlyReadOnlyPackets: after an HTTP 5xx a read-only packet is
// sent again (RetryMax more times at most), a write never is, and
// OnAttempt sees every packet sent.
func TestRetriesOnlyReadOnlyPackets(t *testing.T) {
	var seen, fails atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		if fails.Add(-1) >= 0 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "<packet/>")
	}))
	t.Cleanup(srv.Close)
	var attempts atomic.Int32
	u := New(Config{BaseURL: srv.URL, Timeout: 5 * time.Second, RetryInitial: time.Millisecond, BreakerMinCalls: 100,
		OnAttempt: func(context.Context) { attempts.Add(1) }})
	ctx := context.Background()

	fails.Store(2)
	if _, err := u.send(ctx, Credentials{}, []byte("<packet/>"), true); err != nil {
		t.Fatalf("a read failing twice: %v", err)
	}
	if n := seen.Load(); n != 3 || attempts.Load() != 3 {
		t.Fatalf("a read took %d attempts (OnAttempt saw %d), want 3", n, attempts.Load())
	}
	seen.Store(0)
	fails.Store(5)
	_, err := u.send(ctx, Credentials{}, []byte("<packet/>"), true)
	var ue *Error
	if !errors.As(err, &ue) || ue.Kind != BadStatus || ue.Status != http.StatusInternalServerError {
		t.Fatalf("a read failing every time: %v", err)
	}
	if n := seen.Load(); n != 3 {
		t.Fatalf("a read was sent %d times, want 1 + RetryMax (2)", n)
	}
	seen.Store(0)
	fails.Store(1)
	if _, err := u.send(ctx, Credentials{}, []byte("<packet/>"), false); !errors.As(err, &ue) || ue.Kind != BadStatus {
		t.Fatalf("a failing write: %v", err)
	}
	if n := seen.Load(); n != 1 {
		t.Fatalf("a write was sent %d times", n)
	}
}

// TestBreakerOpensOnTransportFailures: BreakerMinCalls refused connections
// open the breaker (ObserveBreaker hears it); while open nothing is sent
// and the error says why.
func TestBreakerOpensOnTransportFailures(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	var states []string
	u := New(Config{BaseURL: url, Timeout: time.Second, RetryMax: -1, BreakerMinCalls: 3, BreakerOpenFor: time.Hour,
		ObserveBreaker: func(s string) { states = append(states, s) }})
	ctx := context.Background()
	var ue *Error
	for i := 0; i < 3; i++ {
		if _, err := u.send(ctx, Credentials{}, []byte("<packet/>"), true); !errors.As(err, &ue) || ue.Kind != Unavailable {
			t.Fatalf("refused connection %d: %v", i, err)
		}
	}
	if u.BreakerState() != "open" || len(states) != 1 || states[0] != "open" {
		t.Fatalf("breaker %s, hook saw %v", u.BreakerState(), states)
	}
	_, err := u.send(ctx, Credentials{}, []byte("<packet/>"), true)
	if !errors.As(err, &ue) || ue.Kind != Unavailable || !strings.Contains(err.Error(), "circuit breaker") {
		t.Fatalf("open breaker: %v", err)
	}
}

// TestTimeoutPerAttempt: an answer slower than Timeout is a Timeout error,
// never retried; an answer over MaxBodySize is TooLarge.
func TestTimeoutPerAttempt(t *testing.T) {
	var seen atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		if r.URL.Query().Get("big") != "" {
			_, _ = io.WriteString(w, strings.Repeat("x", 2048))
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	u := New(Config{BaseURL: srv.URL, Timeout: 50 * time.Millisecond, RetryInitial: time.Millisecond})
	_, err := u.send(context.Background(), Credentials{}, []byte("<packet/>"), true)
	var ue *Error
	if !errors.As(err, &ue) || ue.Kind != Timeout {
		t.Fatalf("slow answer: %v", err)
	}
	if n := seen.Load(); n != 1 {
		t.Fatalf("a timed-out read was sent %d times", n)
	}
	big := New(Config{BaseURL: srv.URL, Timeout: 5 * time.Second, MaxBodySize: 1024})
	big.url += "?big=1"
	if _, err := big.send(context.Background(), Credentials{}, []byte("<packet/>"), true); !errors.As(err, &ue) || ue.Kind != TooLarge {
		t.Fatalf("large answer: %v", err)
	}
}

// TestCallObservesOutcome: Call reports each packet's outcome to
// ObserveCall, and Plesk's refusal of the credentials is Plesk's error, not
// a transport failure.
func TestCallObservesOutcome(t *testing.T) {
	sim, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: "admin-pw"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	type call struct {
		op, outcome string
		code        int
	}
	var calls []call
	u := New(Config{BaseURL: srv.URL, Timeout: 5 * time.Second,
		ObserveCall: func(op, outcome string, code int, _ time.Duration) { calls = append(calls, call{op, outcome, code}) }})
	ctx := context.Background()
	vs, err := u.Protos(ctx, Credentials{Login: "admin", Password: "admin-pw"})
	if err != nil || len(vs) == 0 {
		t.Fatalf("protos: %v %v", vs, err)
	}
	v := vs[len(vs)-1]
	for _, x := range vs {
		if x.AtLeast(v) {
			v = x
		}
	}
	var perr *translator.Error
	if _, err := u.Call(ctx, Credentials{Login: "admin", Password: "wrong"}, v, &translator.GetRequest{GenInfo: true}); !errors.As(err, &perr) || perr.Code != translator.CodeAuthFailed {
		t.Fatalf("wrong password: %v", err)
	}
	op := v.Dialect().Operator() + "/get"
	if len(calls) != 2 || calls[0] != (call{"server/get_protos", "ok", 0}) || calls[1] != (call{op, "plesk_error", translator.CodeAuthFailed}) {
		t.Fatalf("observed %+v", calls)
	}
}

// TestUnsendableCredentialsSendNothing: a password with a control character
// (printf 'x:\001' | base64 as a caller's Basic header) is refused before
// the breaker and the transport: no packet, no failure counted.
func TestUnsendableCredentialsSendNothing(t *testing.T) {
	var packets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { packets.Add(1) }))
	defer srv.Close()
	u := New(Config{BaseURL: srv.URL, Timeout: time.Second, BreakerMinCalls: 2, BreakerOpenFor: time.Hour})
	for _, c := range []Credentials{{Login: "x", Password: "\x01"}, {Login: "a\nb", Password: "p"}, {Key: "k\x7f"}, {Login: "x", Password: "p\r\n"}} {
		for range 10 {
			if _, err := u.Protos(context.Background(), c); !errors.Is(err, ErrUnsendableCredentials) {
				t.Fatalf("%q: err %v, want ErrUnsendableCredentials", c.Password, err)
			}
		}
	}
	if n := packets.Load(); n != 0 || u.BreakerState() != "closed" {
		t.Fatalf("%d packets sent, breaker %s; want 0 and closed", n, u.BreakerState())
	}
	// Tabs and non-ASCII bytes are valid header text and do go out.
	_, _ = u.Protos(context.Background(), Credentials{Login: "x", Password: "p\tä"})
	if packets.Load() != 1 {
		t.Fatalf("a sendable password was not sent")
	}
}

// TestBreakerCountsOnlyPanelFailures: HTTP 4xx answers (a 413 for a huge
// packet) never open the breaker; a failure ratio under BreakerFailureRatio
// (30% HTTP 500) does not either; a ratio above it does.
func TestBreakerCountsOnlyPanelFailures(t *testing.T) {
	var n atomic.Int32
	status := atomic.Int32{}
	everyThird := atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		if everyThird.Load() && i%10 >= 3 {
			_, _ = w.Write([]byte(`<?xml version="1.0"?><packet version="1.6.9.1"><server><get_protos><result><status>ok</status><protos><proto>1.6.9.1</proto></protos></result></get_protos></server></packet>`))
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	u := New(Config{BaseURL: srv.URL, Timeout: time.Second, RetryMax: -1, BreakerMinCalls: 5, BreakerOpenFor: time.Hour})
	status.Store(http.StatusRequestEntityTooLarge)
	for range 50 {
		_, _ = u.Protos(context.Background(), Credentials{Login: "a", Password: "b"})
	}
	if u.BreakerState() != "closed" {
		t.Fatalf("50 HTTP 413 answers opened the breaker")
	}
	status.Store(http.StatusInternalServerError)
	everyThird.Store(true) // 3 of every 10 answers are HTTP 500
	for range 300 {
		_, _ = u.Protos(context.Background(), Credentials{Login: "a", Password: "b"})
	}
	if u.BreakerState() != "closed" {
		t.Fatalf("a 30%% HTTP 500 rate opened the breaker")
	}
	everyThird.Store(false) // every answer an HTTP 500
	for range 300 {
		if _, err := u.Protos(context.Background(), Credentials{Login: "a", Password: "b"}); err != nil && u.BreakerState() == "open" {
			return
		}
	}
	t.Fatalf("only HTTP 500s did not open the breaker")
}

// TestTransportErrorsDoNotNameThePanel: what a failed call says (and so a
// 503's problem detail) names neither the URL, its userinfo, nor the address.
func TestTransportErrorsDoNotNameThePanel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now: connection refused
	u := New(Config{BaseURL: "http://gwuser:s3cretpw@" + addr, Timeout: time.Second, RetryMax: -1})
	_, err = u.Protos(context.Background(), Credentials{Login: "a", Password: "b"})
	var ue *Error
	if !errors.As(err, &ue) || ue.Kind != Unavailable {
		t.Fatalf("err %v, want Unavailable", err)
	}
	for _, leak := range []string{"s3cretpw", "gwuser", addr, "agent.php", "http://"} {
		if strings.Contains(err.Error(), leak) {
			t.Fatalf("error %q names %q", err, leak)
		}
	}
	if !strings.Contains(err.Error(), "refused") {
		t.Fatalf("error %q lost its cause", err)
	}
}

// TestFailuresNameNoHostOrAddress: an unresolvable name, a certificate for
// another name and a refused port each say what failed, and neither the
// panel's host nor any address.
func TestFailuresNameNoHostOrAddress(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(tlsSrv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	_, port, _ := net.SplitHostPort(tlsSrv.Listener.Addr().String())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	for _, c := range []struct {
		name, url, want string
		transport       http.RoundTripper
	}{
		{"unresolvable", "http://secret-panel-name.corp.invalid:8443", "DNS", nil},
		// the test certificate is for example.com and 127.0.0.1; "localhost" is not on it
		{"wrong name", "https://localhost:" + port, "TLS", &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
		{"refused", refused, "refused", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := New(Config{BaseURL: c.url, Timeout: 5 * time.Second, RetryMax: -1, Transport: c.transport})
			_, err := u.send(context.Background(), Credentials{Login: "a", Password: "pw"}, []byte("<packet/>"), true)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, leak := range []string{"secret-panel-name", "corp.invalid", "localhost", "127.0.0.1", "example.com", port, "53"} {
				if strings.Contains(msg, leak) {
					t.Fatalf("error %q names %q", msg, leak)
				}
			}
			if !strings.Contains(msg, c.want) {
				t.Fatalf("error %q does not say %s", msg, c.want)
			}
		})
	}
}

// TestUnsentPacketsAreNotCounted: credentials that cannot be sent and a
// request shed by admission record no packet (no "transport_error").
func TestUnsentPacketsAreNotCounted(t *testing.T) {
	srv, release, arrived := blockingPanel(t)
	var outcomes []string
	var mu sync.Mutex
	u := New(Config{BaseURL: srv.URL, Timeout: 30 * time.Second, Concurrency: 1, Queue: 1,
		ObserveCall: func(op, outcome string, code int, d time.Duration) {
			mu.Lock()
			outcomes = append(outcomes, outcome)
			mu.Unlock()
		}})
	if _, err := u.Protos(context.Background(), Credentials{Login: "a\x01", Password: "pw"}); !errors.Is(err, ErrUnsendableCredentials) {
		t.Fatalf("control character: %v", err)
	}
	done := make(chan struct{}, 2)
	for _, l := range []string{"a", "b"} {
		go func() {
			_, _ = u.Protos(context.Background(), Credentials{Login: l, Password: "pw"})
			done <- struct{}{}
		}()
		if l == "a" {
			<-arrived
		}
	}
	waitCounts(t, u.admit, 1, 1)
	if _, err := u.Protos(context.Background(), Credentials{Login: "c", Password: "pw"}); !errors.Is(err, ErrBusy) {
		t.Fatalf("full queue: %v", err)
	}
	mu.Lock()
	got := append([]string(nil), outcomes...)
	mu.Unlock()
	if len(got) != 0 {
		t.Fatalf("packets recorded for requests never sent: %v", got)
	}
	release <- struct{}{}
	<-arrived
	release <- struct{}{}
	<-done
	<-done
}

// TestAnswerBounds: an answer whose Content-Length is over the bound is
// refused unread; one without a length is refused past the bound; and
// while answers being read hold the whole budget, another waits for room
// (here until its caller's deadline) instead of being read.
func TestAnswerBounds(t *testing.T) {
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch r.Header.Get("HTTP_AUTH_LOGIN") {
		case "announced-huge": // says 10 MB, sends a little, and waits
			w.Header().Set("Content-Length", strconv.Itoa(10<<20))
			_, _ = io.WriteString(w, "<packet>")
			w.(http.Flusher).Flush()
			<-hold
		case "chunked-huge":
			for range 20 {
				_, _ = w.Write(make([]byte, 100<<10))
			}
		case "slow": // 700 KB, of which the rest comes only at the end of the test
			w.Header().Set("Content-Length", strconv.Itoa(700<<10))
			_, _ = w.Write(make([]byte, 1<<10))
			w.(http.Flusher).Flush()
			<-hold
		default:
			w.Header().Set("Content-Length", strconv.Itoa(700<<10))
			_, _ = w.Write(make([]byte, 700<<10))
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(hold) }) // before srv.Close
	u := New(Config{BaseURL: srv.URL, Timeout: 2 * time.Second, RetryMax: -1, MaxBodySize: 1 << 20, AnswerBudget: 1 << 20})
	sendWithin := func(login string, d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		_, err := u.send(ctx, Credentials{Login: login, Password: "pw"}, []byte("<packet/>"), false)
		return err
	}
	send := func(login string) error { return sendWithin(login, time.Minute) }
	var ue *Error
	if err := send("announced-huge"); !errors.As(err, &ue) || ue.Kind != TooLarge {
		t.Fatalf("10 MB announced: %v, want TooLarge at once", err)
	}
	if err := send("chunked-huge"); !errors.As(err, &ue) || ue.Kind != TooLarge {
		t.Fatalf("2 MB unannounced: %v, want TooLarge", err)
	}
	if err := send("fits"); err != nil {
		t.Fatalf("700 KB: %v", err)
	}
	slow := make(chan error, 1)
	go func() { slow <- send("slow") }()
	for u.budget.TryAcquire(700 << 10) { // wait until the slow answer holds its bytes
		u.budget.Release(700 << 10)
		runtime.Gosched()
	}
	if err := sendWithin("fits", 200*time.Millisecond); !isTimeout(err) {
		t.Fatalf("700 KB while 700 KB of a 1 MiB budget are held: %v, want a timeout waiting for room", err)
	}
	<-slow
	if err := send("fits"); err != nil {
		t.Fatalf("700 KB once the budget is free: %v", err)
	}
}

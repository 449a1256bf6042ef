// Package upstream is the gateway's Plesk client: one http.Client, the
// credentials as Plesk's headers, a timeout per attempt, retries for reads
// and a circuit breaker. It knows nothing of HTTP callers: metrics and the
// logger come in through Config.
package upstream

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"

	"github.com/pleskgate/pleskgate/translator"
)

// agentPath is Plesk's XML API endpoint (PROTOCOL.md §1.1).
const agentPath = "/enterprise/control/agent.php"

// Credentials are what goes upstream: a login and password, or a secret key.
// They are never logged: String redacts them.
type Credentials struct {
	Login    string
	Password string
	Key      string
	// Caller, when set, is the caller's identity as the gateway already
	// computed it (an HMAC, never a secret): admission fairness and
	// coalescing key on it instead of computing Identity again. In service
	// mode it names the API key, so each key is its own identity there.
	Caller string
}

func (c Credentials) String() string {
	switch {
	case c.Key != "":
		return "key:[redacted]"
	case c.Login != "":
		return "login:" + c.Login + ":[redacted]"
	default:
		return "anonymous"
	}
}

// Empty reports whether no credential was given.
func (c Credentials) Empty() bool { return c.Key == "" && c.Login == "" && c.Password == "" }

// Identity is a stable name for these credentials, used to key caches and
// shared state so that one caller never sees what another caller's rights
// produced. It is an HMAC-SHA256 under secret (DESIGN.md §5), never a plain
// hash: whoever reads the shared state cannot test passwords against it
// without the secret.
func (c Credentials) Identity(secret []byte) string {
	if c.Key != "" {
		return Keyed(secret, "key", c.Key)
	}
	return Keyed(secret, "pw", c.Login+"\x00"+c.Password)
}

// Keyed is the hex HMAC-SHA256 (128 bits of it) of kind and value under
// secret: the name in shared state of something secret, which nobody can
// reverse or test guesses against without the secret.
func Keyed(secret []byte, kind, value string) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(kind + "\x00" + value))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// NewSecret returns 32 random bytes: the state secret of a process that
// shares no state with others.
func NewSecret() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("upstream: no randomness: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	return b
}

// ErrorKind classifies a failure to get a usable answer from Plesk.
type ErrorKind int

const (
	Unavailable ErrorKind = iota + 1 // connection refused, reset, DNS, circuit open
	Timeout                          // no answer within the timeout
	BadStatus                        // an HTTP status other than 200
	TooLarge                         // the answer exceeded the size limit
)

// Title is a short human description of the kind.
func (k ErrorKind) Title() string {
	switch k {
	case Timeout:
		return "Plesk did not answer in time"
	case Unavailable:
		return "Plesk is unreachable"
	case TooLarge:
		return "Plesk's answer is too large"
	case Busy:
		return "Too many requests waiting for Plesk"
	default:
		return "Unexpected answer from Plesk"
	}
}

// Error is a transport-level failure talking to Plesk.
type Error struct {
	Kind   ErrorKind
	Status int // HTTP status, for BadStatus
	Err    error
}

func (e *Error) Error() string {
	switch e.Kind {
	case BadStatus:
		return fmt.Sprintf("plesk answered HTTP %d", e.Status)
	case TooLarge:
		return "plesk's answer exceeded the size limit"
	}
	if e.Err != nil {
		return "plesk: " + e.Err.Error()
	}
	return "plesk: " + e.Kind.Title()
}

func (e *Error) Unwrap() error { return e.Err }

// Config configures the Plesk client. Zero values take the defaults.
type Config struct {
	BaseURL     string        // e.g. https://panel:8443; agentPath is appended
	Timeout     time.Duration // per attempt; default 30s
	MaxBodySize int64         // largest answer accepted; default 16 MiB, at most AnswerBudget
	// AnswerBudget bounds the bytes of all answers being read or decoded
	// at once (default 32 MiB: two answers of the largest size): a reader
	// waits for room, within its attempt's timeout. Decoding costs about
	// four times an answer's bytes (a 50 MB answer of 71,000 clients peaked
	// at 230 MiB of RSS), so 32 MiB keeps answers in a 256 MiB pod
	// (docs/BENCHMARKS.md §16); the largest answer the gateway asks for
	// legitimately, the ids of every client (≈ 55 bytes each), is
	// 16 MiB at 300,000 clients.
	AnswerBudget int64
	// Transport sends each attempt (pooling, TLS settings); when nil,
	// http.DefaultTransport. It is called directly, not through an
	// http.Client: a panel's redirect is never followed (it would carry
	// the KEY or HTTP_AUTH_PASSWD header to wherever it points) but
	// answered as a BadStatus, and the per-attempt deadline is Timeout.
	Transport http.RoundTripper

	// IdentitySecret keys Credentials.Identity for admission fairness and
	// coalescing, both in this process only; random when nil.
	IdentitySecret []byte

	// Retries of read-only packets after a transport error or an HTTP 5xx:
	// at most RetryMax more attempts (default 2; negative disables), with
	// jittered exponential backoff from RetryInitial (default 100ms).
	RetryMax     int
	RetryInitial time.Duration

	// The circuit breaker counts only failures of the panel itself
	// (refused, reset, timeout, HTTP 5xx; see panelFailure). It opens when,
	// within one BreakerWindow (default 30s), at least BreakerMinCalls
	// calls (default 20: fewer would let a partly failing panel trip it by
	// chance early in a window) were made and at least BreakerFailureRatio of them
	// (default 0.5) failed; after BreakerOpenFor (default 30s) it lets one
	// trial call through (half-open), which closes it again or reopens it.
	BreakerMinCalls     uint32
	BreakerFailureRatio float64
	BreakerWindow       time.Duration
	BreakerOpenFor      time.Duration

	Logger *zap.Logger // debug dumps of packets (passwords redacted); may be nil

	// Hooks for the caller's metrics; each may be nil.
	//   - ObserveCall: one call (every attempt of it) finished: the packet's
	//     operator/operation, its outcome ("ok", "plesk_error" with Plesk's
	//     code, "malformed", "transport_error") and how long it took.
	//   - ObserveBreaker: the circuit breaker changed state ("closed",
	//     "half-open", "open").
	//   - OnAttempt: one packet is about to be sent (retries included), on
	//     the context of the call.
	ObserveCall    func(op, outcome string, code int, d time.Duration)
	ObserveBreaker func(state string)
	OnAttempt      func(ctx context.Context)

	// Admission (admission.go): at most Concurrency packets in flight
	// (0: unbounded), up to Queue callers waiting. ObserveAdmission gets
	// the in-flight and queued counts as they change, ObserveShed one
	// call per shed request; each may be nil.
	Concurrency      int
	Queue            int
	ObserveAdmission func(inflight, queued int)
	ObserveShed      func()

	// Tracing (tracing.go): nil TracerProvider, no spans and no otelhttp
	// transport. Propagator injects traceparent; W3C Trace Context and
	// Baggage when nil.
	TracerProvider trace.TracerProvider
	Propagator     propagation.TextMapPropagator
}

// Client sends packets to one Plesk server.
type Client struct {
	url          string
	basicAuth    string // the Authorization header for BaseURL's userinfo; "" without one
	timeout      time.Duration
	maxBody      int64
	budget       *semaphore.Weighted // bytes of answers being read or decoded (readAnswer, whileDecoding)
	transport    http.RoundTripper
	retryMax     int
	retryInitial time.Duration
	breaker      *gobreaker.CircuitBreaker[answer]
	log          *zap.Logger

	observeCall    func(op, outcome string, code int, d time.Duration)
	observeBreaker func(state string)
	onAttempt      func(ctx context.Context)
	admit          *admission
	flight         singleflight.Group // coalesce.go
	flying         sync.Map           // coalesce.go: by key, the *flown of the read in the air
	secret         []byte             // Config.IdentitySecret
	tracer         trace.Tracer       // nil when tracing is off (tracing.go)
}

// New returns a client for the Plesk server at cfg.BaseURL.
func New(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = 16 << 20
	}
	if cfg.AnswerBudget <= 0 {
		cfg.AnswerBudget = 32 << 20
	}
	cfg.MaxBodySize = min(cfg.MaxBodySize, cfg.AnswerBudget) // a bigger answer could never be reserved
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 2
	}
	if cfg.RetryInitial <= 0 {
		cfg.RetryInitial = 100 * time.Millisecond
	}
	if cfg.BreakerMinCalls == 0 {
		cfg.BreakerMinCalls = 20
	}
	if cfg.BreakerFailureRatio <= 0 || cfg.BreakerFailureRatio > 1 {
		cfg.BreakerFailureRatio = 0.5
	}
	if cfg.BreakerWindow <= 0 {
		cfg.BreakerWindow = 30 * time.Second
	}
	if cfg.BreakerOpenFor <= 0 {
		cfg.BreakerOpenFor = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.IdentitySecret == nil {
		cfg.IdentitySecret = NewSecret()
	}
	u := &Client{
		url:          strings.TrimRight(cfg.BaseURL, "/") + agentPath,
		timeout:      cfg.Timeout,
		maxBody:      cfg.MaxBodySize,
		budget:       semaphore.NewWeighted(cfg.AnswerBudget),
		transport:    cfg.Transport,
		retryMax:     cfg.RetryMax,
		retryInitial: cfg.RetryInitial,
		log:          cfg.Logger,

		observeCall:    cfg.ObserveCall,
		observeBreaker: cfg.ObserveBreaker,
		onAttempt:      cfg.OnAttempt,
		admit:          newAdmission(cfg.Concurrency, cfg.Queue, cfg.ObserveAdmission, cfg.ObserveShed),
		secret:         cfg.IdentitySecret,
	}
	if pu, err := url.Parse(u.url); err == nil && pu.User != nil {
		// What http.Client does for a URL's userinfo (say a front proxy's
		// login), done here because the transport is called directly.
		pw, _ := pu.User.Password()
		u.basicAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(pu.User.Username()+":"+pw))
	}
	if cfg.TracerProvider != nil {
		u.tracer = cfg.TracerProvider.Tracer(tracerName)
		u.transport = tracedTransport(u.transport, cfg.TracerProvider, cfg.Propagator)
	}
	minCalls, ratio := cfg.BreakerMinCalls, cfg.BreakerFailureRatio
	// sony/gobreaker, on a failure ratio over a window: Plesk's own error
	// answers are answers, an HTTP 4xx is the panel refusing what we sent,
	// and a caller that gave up says nothing about Plesk (panelFailure).
	u.breaker = gobreaker.NewCircuitBreaker[answer](gobreaker.Settings{
		Name:        "plesk",
		MaxRequests: 1,
		Interval:    cfg.BreakerWindow,
		Timeout:     cfg.BreakerOpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.Requests >= minCalls && float64(c.TotalFailures) >= ratio*float64(c.Requests)
		},
		IsSuccessful: func(err error) bool { return !panelFailure(err) },
		IsExcluded:   func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, _, to gobreaker.State) {
			if u.observeBreaker != nil {
				u.observeBreaker(to.String())
			}
			u.log.Warn("upstream circuit breaker changed state", zap.String("state", to.String()))
		},
	})
	return u
}

// Endpoint is the URL packets are posted to.
func (u *Client) Endpoint() string { return u.url }

// panelFailure says whether err shows the panel itself failing: it could not
// be reached, reset the connection, did not answer in time, or answered an
// HTTP 5xx. An HTTP 4xx (say a 413 for a huge packet) is the panel refusing
// one request, and an error that is not an *Error never reached it.
func panelFailure(err error) bool {
	var ue *Error
	if err == nil || !errors.As(err, &ue) {
		return false
	}
	switch ue.Kind {
	case Unavailable, Timeout:
		return true
	case BadStatus:
		return ue.Status == 0 || ue.Status >= 500 // 0: the answer broke off
	}
	return false
}

// ErrUnsendableCredentials: the credentials hold bytes that an HTTP header
// cannot carry (control characters other than tab), so no packet can be
// sent with them. The gateway answers 401 (gateway/errors.go).
var ErrUnsendableCredentials = errors.New("the credentials contain control characters, which cannot be sent to Plesk")

// sendable reports whether every credential can travel as a header value:
// no control characters but tab (RFC 9110 field-value; what net/http checks).
func (c Credentials) sendable() bool {
	for _, s := range []string{c.Key, c.Login, c.Password} {
		for i := 0; i < len(s); i++ {
			if b := s[i]; b < 0x20 && b != '\t' || b == 0x7f {
				return false
			}
		}
	}
	return true
}

// BreakerState reports the circuit breaker's state: closed, half-open or open.
func (u *Client) BreakerState() string { return u.breaker.State().String() }

// sendAdmitted sends a packet once it is admitted (admission.go), and
// retries read-only packets (cenkalti/backoff: exponential, jittered) after
// a transport error or an HTTP 5xx. Timeouts are not retried: a slow panel
// only gets slower.
//
// Under admission the attempts run in a goroutine of their own, on a context
// detached from the caller's cancellation (each attempt still ends at
// Config.Timeout), which holds the slot until they end: the panel keeps
// working on a packet whose client left (PHP does), so the slot stays
// counted. The caller whose context ends gets its error at once; a caller
// that has gone gets no retries.
func (u *Client) sendAdmitted(ctx context.Context, creds Credentials, identity string, packet []byte, readOnly bool) (answer, error) {
	if !creds.sendable() {
		return answer{}, unsent(ErrUnsendableCredentials) // before admission and the breaker: nothing was sent
	}
	if u.admit == nil {
		return u.attempts(ctx, ctx, creds, packet, readOnly)
	}
	slot, err := u.admitInTime(ctx, identity)
	if err != nil {
		return answer{}, unsent(err)
	}
	type result struct {
		ans answer
		err error
	}
	done := make(chan result, 1)
	gate := newSendGate()
	go func() {
		if !gate.open(ctx) {
			slot.giveBack() // the caller left before its packet went: nothing is sent
			done <- result{err: unsent(context.Cause(ctx))}
			return
		}
		defer slot.release()
		defer gate.markCounted() // also when no attempt reached post (an open breaker)
		ans, err := u.attempts(ctx, withGate(context.WithoutCancel(ctx), gate), creds, packet, readOnly)
		done <- result{ans, err}
	}()
	select {
	case r := <-done:
		return r.ans, r.err
	case <-ctx.Done():
		if gate.leave() {
			return answer{}, unsent(ctx.Err())
		}
		// The packet went and was counted: nobody will decode its answer,
		// so its bytes are given back when it comes.
		go func() { r := <-done; r.ans.done() }()
		return answer{}, ctx.Err()
	}
}

// admitInTime waits for a slot (admitTraced), when ctx must be answered by
// a time (WithAnswerBy) only until one attempt's timeout before it: a
// packet sent later could not be answered in time. A request whose wait
// would end later, or ends then, is shed as Busy, not sent: the panel would
// do the work and nobody would hear of it.
func (u *Client) admitInTime(ctx context.Context, identity string) (*slot, error) {
	by, ok := answerBy(ctx)
	if !ok {
		return u.admitTraced(ctx, identity)
	}
	waitCtx, cancel := context.WithDeadline(ctx, by.Add(-u.timeout))
	defer cancel()
	var s *slot
	err := waitCtx.Err()
	if err == nil {
		s, err = u.admitTraced(waitCtx, identity)
	}
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		if !errors.Is(err, ErrBusy) {
			u.admit.countShed()
		}
		u.event(ctx, "shed", attribute.String("reason", "the answer could not arrive before the write deadline"))
		return nil, busyError()
	}
	return s, err
}

// attempts sends the packet on sendCtx, and again while it is read-only,
// the failure retryable, the caller (ctx) still there and its answer still
// wanted in time (WithAnswerBy).
//
// The first attempt is made directly: the retry machinery (backoff state,
// timer, options) is only built when that attempt failed in a way worth
// retrying, and it is then handed the first attempt's outcome, so pacing,
// the number of tries and the elapsed-time budget are what they would be had
// it made the first attempt itself.
func (u *Client) attempts(ctx, sendCtx context.Context, creds Credentials, packet []byte, readOnly bool) (answer, error) {
	start := time.Now()
	ans, err := u.attempt(sendCtx, creds, packet)
	if err == nil {
		return ans, nil
	}
	if !readOnly || u.retryMax < 0 || !retryable(err) || ctx.Err() != nil {
		return answer{}, err
	}
	budget := 2*u.timeout - time.Since(start)
	if budget <= 0 {
		return answer{}, err
	}
	first, last := err, err
	tries := 1
	op := func() (answer, error) {
		if first != nil {
			err := first
			first = nil
			return answer{}, err
		}
		if ctx.Err() != nil || u.tooLateToSend(ctx) {
			return answer{}, backoff.Permanent(last)
		}
		tries++
		u.event(ctx, "retry", attribute.Int("attempt", tries))
		ans, err := u.attempt(sendCtx, creds, packet)
		if err != nil {
			last = err
			if !retryable(err) {
				return answer{}, backoff.Permanent(err)
			}
		}
		return ans, err
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = u.retryInitial
	b.RandomizationFactor = 0.5
	ans, err = backoff.Retry(ctx, op, backoff.WithBackOff(b), backoff.WithMaxTries(uint(u.retryMax)+1),
		backoff.WithMaxElapsedTime(budget))
	return ans, unwrapPermanent(err)
}

// unsentError marks a failure before any packet was sent (unsendable
// credentials, shed by admission, the caller left while queued): no packet
// is counted for it.
type unsentError struct{ err error }

func (e *unsentError) Error() string { return e.err.Error() }
func (e *unsentError) Unwrap() error { return e.err }

func unsent(err error) error { return &unsentError{err} }

// Unsent reports whether err ended a call before any packet was sent: the
// credentials could not travel, admission shed it, or its time ran out while
// it waited for a slot.
func Unsent(err error) bool {
	var ue *unsentError
	return errors.As(err, &ue)
}

// transportFailed: err is a packet's transport failure, to record as such:
// not a call that sent nothing (Unsent), nor one whose answer came but
// could not be decoded in time (notDecoded).
func transportFailed(err error) bool {
	var nd *notDecoded
	return err != nil && !Unsent(err) && !errors.As(err, &nd)
}

// attempt sends the packet once, through the circuit breaker.
func (u *Client) attempt(ctx context.Context, creds Credentials, packet []byte) (answer, error) {
	var before gobreaker.State
	if u.tracer != nil {
		before = u.breaker.State()
	}
	ans, err := u.breaker.Execute(func() (answer, error) { return u.post(ctx, creds, packet) })
	if u.tracer != nil {
		if after := u.breaker.State(); after != before {
			u.event(ctx, "circuit breaker state change", attribute.String("from", before.String()), attribute.String("to", after.String()))
		}
	}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		u.event(ctx, "circuit breaker rejected the packet", attribute.String("state", u.breaker.State().String()))
		err = &Error{Kind: Unavailable, Err: fmt.Errorf("circuit breaker open after repeated failures: %w", err)}
	}
	return ans, err
}

func unwrapPermanent(err error) error {
	var p *backoff.PermanentError
	if errors.As(err, &p) {
		return p.Err
	}
	return err
}

// retryable: the packet may not have reached Plesk, or Plesk failed outright.
func retryable(err error) bool {
	var ue *Error
	if !errors.As(err, &ue) {
		return false
	}
	switch ue.Kind {
	case Unavailable:
		return !errors.Is(err, gobreaker.ErrOpenState) && !errors.Is(err, gobreaker.ErrTooManyRequests)
	case BadStatus:
		return ue.Status >= 500
	}
	return false
}

// post sends one packet and returns the raw answer, in a buffer of its own,
// its bytes still reserved in the answer budget (readAnswer) until the
// answer's done is called, once it is decoded.
func (u *Client) post(ctx context.Context, creds Credentials, packet []byte) (answer, error) {
	if u.onAttempt != nil {
		u.onAttempt(ctx)
	}
	if g := gateFrom(ctx); g != nil {
		g.markCounted() // the caller, leaving, may now return: this packet is counted
	}
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url, bytes.NewReader(packet))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	if u.basicAuth != "" {
		req.Header.Set("Authorization", u.basicAuth)
	}
	// Plesk's header names contain underscores (PROTOCOL.md §1.1); set them raw
	// so Go does not canonicalise them.
	switch {
	case creds.Key != "":
		req.Header["KEY"] = []string{creds.Key}
	case creds.Login != "" || creds.Password != "":
		req.Header["HTTP_AUTH_LOGIN"] = []string{creds.Login}
		req.Header["HTTP_AUTH_PASSWD"] = []string{creds.Password}
	}
	if ce := u.log.Check(zap.DebugLevel, "upstream packet"); ce != nil {
		ce.Write(zap.ByteString("request", redactPacket(packet)), zap.String("auth", creds.String()))
	}
	resp, err := u.transport.RoundTrip(req)
	if err != nil {
		err = classifyTransport(ctx, err)
		u.logFailure(err)
		return answer{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return answer{}, &Error{Kind: BadStatus, Status: resp.StatusCode}
	}
	body, release, err := u.readAnswer(ctx, resp)
	if err != nil {
		release()
		var ue *Error
		if errors.As(err, &ue) {
			return answer{}, err
		}
		// The answer had started: the packet reached Plesk and may have run,
		// so this is a broken answer (502, never retried), not an unreachable
		// panel (503) — unless the time ran out.
		if te := classifyTransport(ctx, err); isTimeout(te) {
			u.logFailure(te)
			return answer{}, te
		}
		err = &Error{Kind: BadStatus, Err: fmt.Errorf("reading the answer: %w", causeOf(err))}
		u.logFailure(err)
		return answer{}, err
	}
	if ce := u.log.Check(zap.DebugLevel, "upstream answer"); ce != nil {
		ce.Write(zap.ByteString("response", redactPacket(body)))
	}
	return answer{body, release}, nil
}

// passwdElement matches the elements that carry secrets in a packet: passwd
// (add, set), and password and password_type, which get answers carry
// (a crypt hash, recorded in PROTOCOL.md §15 REC-1).
var passwdElement = regexp.MustCompile(`(?s)<(passwd|password|password_type)>.*?</(passwd|password|password_type)>`)

// redactPacket hides every password in a packet before it is logged.
func redactPacket(b []byte) []byte {
	return passwdElement.ReplaceAll(b, []byte("<$1>[redacted]</$1>"))
}

func classifyTransport(ctx context.Context, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != context.DeadlineExceeded:
		return err
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &Error{Kind: Timeout, Err: causeOf(err)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The connection broke mid-answer: what we have is not a packet.
		return &Error{Kind: BadStatus, Err: causeOf(err)}
	default:
		return &Error{Kind: Unavailable, Err: causeOf(err)}
	}
}

// causeOf says what went wrong (DNS, TLS, refused, reset, timeout) and
// nothing that names the panel: the error reaches callers as a problem's
// detail, and a resolver's or certificate's message carries host names and
// addresses (DESIGN.md §7). The original stays reachable by errors.Is/As;
// the log keeps its text (post).
func causeOf(err error) error {
	var (
		dns     *net.DNSError
		host    x509.HostnameError
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		verify  *tls.CertificateVerificationError
		record  tls.RecordHeaderError
		alert   tls.AlertError
		ne      net.Error
	)
	text := "the connection to the panel failed"
	switch {
	case errors.As(err, &dns):
		text = "the panel's host name could not be resolved (DNS)"
	case errors.As(err, &host):
		text = "TLS: the panel's certificate is not valid for its name"
	case errors.As(err, &unknown):
		text = "TLS: the panel's certificate is signed by an unknown authority"
	case errors.As(err, &invalid):
		text = "TLS: the panel's certificate is invalid (expired, not yet valid, or not for a server)"
	case errors.As(err, &verify):
		text = "TLS: the panel's certificate could not be verified"
	case errors.As(err, &record):
		text = "TLS: the panel did not answer in TLS"
	case errors.As(err, &alert):
		text = "TLS: the panel refused the handshake"
	case errors.Is(err, syscall.ECONNREFUSED):
		text = "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		text = "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		text = "no route to the panel"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		text = "no answer in time"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		text = "the connection closed before the answer ended"
	}
	return &causeError{text: text, err: err}
}

// causeError is a transport failure said without names or addresses.
type causeError struct {
	text string
	err  error
}

func (e *causeError) Error() string { return e.text }
func (e *causeError) Unwrap() error { return e.err }

// logFailure logs a transport failure once, with the detail the caller's
// problem leaves out (the resolver's and the certificate's words, which
// name hosts and addresses; never credentials, which no transport error
// holds).
func (u *Client) logFailure(err error) {
	var ce *causeError
	if errors.As(err, &ce) {
		u.log.Warn("plesk request failed", zap.String("cause", ce.text), zap.String("detail", ce.err.Error()))
	}
}

func isTimeout(err error) bool {
	var ue *Error
	return errors.As(err, &ue) && ue.Kind == Timeout
}

// Call sends reqs in one packet at protocol v and decodes the replies.
func (u *Client) Call(ctx context.Context, creds Credentials, v translator.Version, reqs ...translator.Request) ([]translator.Reply, error) {
	packet, err := translator.EncodeRequest(v, reqs...)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if u.tracer != nil { // the name costs an allocation: only for the spans
		ctx = u.withPacket(ctx, packetOpName(v, reqs), v)
	}
	ans, err := u.sendHeld(ctx, creds, packet, readOnly(reqs))
	if err != nil {
		if transportFailed(err) {
			u.record(packetOpName(v, reqs), "transport_error", 0, start)
		}
		return nil, err
	}
	defer ans.done()
	replies, err := translator.DecodeResponse(v, ans.body, reqs...)
	u.recordDecoded(packetOpName(v, reqs), err, start)
	return replies, err
}

// CallGet sends one get at protocol v and hands its results to each, one
// at a time as they are decoded (translator.EachGetResult), so a listing
// never holds its whole answer decoded. On an error, what each was given
// is not an answer.
func (u *Client) CallGet(ctx context.Context, creds Credentials, v translator.Version, req *translator.GetRequest, each func(translator.GetResult) error) error {
	packet, err := translator.EncodeRequest(v, req)
	if err != nil {
		return err
	}
	op := packetOpName(v, []translator.Request{req})
	start := time.Now()
	ctx = u.withPacket(ctx, op, v)
	ans, err := u.sendHeld(ctx, creds, packet, true)
	if err != nil {
		if transportFailed(err) {
			u.record(op, "transport_error", 0, start)
		}
		return err
	}
	defer ans.done()
	err = translator.EachGetResult(v, ans.body, req, each)
	u.recordDecoded(op, err, start)
	return err
}

// Protos asks the server which protocol versions it accepts (server/get_protos).
func (u *Client) Protos(ctx context.Context, creds Credentials) ([]translator.Version, error) {
	start := time.Now()
	ctx = u.withPacket(ctx, "server/get_protos", translator.Version{})
	ans, err := u.sendHeld(ctx, creds, translator.EncodeGetProtos(), true)
	if err != nil {
		if transportFailed(err) {
			u.record("server/get_protos", "transport_error", 0, start)
		}
		return nil, err
	}
	defer ans.done()
	vs, err := translator.DecodeGetProtos(ans.body)
	u.recordDecoded("server/get_protos", err, start)
	return vs, err
}

// recordDecoded records a packet whose answer arrived: ok, a Plesk error
// (with its code) or a malformed answer.
func (u *Client) recordDecoded(op string, err error, start time.Time) {
	var perr *translator.Error
	switch {
	case errors.As(err, &perr):
		u.record(op, "plesk_error", perr.Code, start)
	case err != nil:
		u.record(op, "malformed", 0, start)
	default:
		u.record(op, "ok", 0, start)
	}
}

func (u *Client) record(op, outcome string, code int, start time.Time) {
	if u.observeCall != nil {
		u.observeCall(op, outcome, code, time.Since(start))
	}
}

// readOnly reports whether every request only reads, so the packet may be
// sent again safely.
func readOnly(reqs []translator.Request) bool {
	for _, r := range reqs {
		if !r.Op().ReadOnly() {
			return false
		}
	}
	return true
}

// packetOpName names a packet for metrics: operator/operation of its first request.
func packetOpName(v translator.Version, reqs []translator.Request) string {
	if len(reqs) == 0 {
		return v.Dialect().Operator()
	}
	return v.Dialect().Operator() + "/" + string(reqs[0].Op().Name())
}

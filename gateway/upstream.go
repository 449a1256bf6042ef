package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

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

// Identity is a stable, non-reversible name for these credentials, used to key
// caches so that one caller never sees what another caller's rights produced.
func (c Credentials) Identity() string {
	h := sha256.New()
	if c.Key != "" {
		h.Write([]byte("key\x00" + c.Key))
	} else {
		h.Write([]byte("pw\x00" + c.Login + "\x00" + c.Password))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// UpstreamErrorKind classifies a failure to get a usable answer from Plesk.
type UpstreamErrorKind int

const (
	UpstreamUnavailable UpstreamErrorKind = iota + 1 // connection refused, reset, DNS, circuit open
	UpstreamTimeout                                  // no answer within the timeout
	UpstreamBadStatus                                // an HTTP status other than 200
	UpstreamTooLarge                                 // the answer exceeded the size limit
)

func (k UpstreamErrorKind) status() int {
	switch k {
	case UpstreamTimeout:
		return http.StatusGatewayTimeout
	case UpstreamUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadGateway
	}
}

func (k UpstreamErrorKind) slug() string {
	switch k {
	case UpstreamTimeout:
		return "upstream-timeout"
	case UpstreamUnavailable:
		return "upstream-unavailable"
	default:
		return "bad-upstream-answer"
	}
}

func (k UpstreamErrorKind) title() string {
	switch k {
	case UpstreamTimeout:
		return "Plesk did not answer in time"
	case UpstreamUnavailable:
		return "Plesk is unreachable"
	case UpstreamTooLarge:
		return "Plesk's answer is too large"
	default:
		return "Unexpected answer from Plesk"
	}
}

// UpstreamError is a transport-level failure talking to Plesk.
type UpstreamError struct {
	Kind   UpstreamErrorKind
	Status int // HTTP status, for UpstreamBadStatus
	Err    error
}

func (e *UpstreamError) Error() string {
	switch e.Kind {
	case UpstreamBadStatus:
		return fmt.Sprintf("plesk answered HTTP %d", e.Status)
	case UpstreamTooLarge:
		return "plesk's answer exceeded the size limit"
	}
	if e.Err != nil {
		return "plesk: " + e.Err.Error()
	}
	return "plesk: " + e.Kind.title()
}

func (e *UpstreamError) Unwrap() error { return e.Err }

// UpstreamConfig configures the Plesk client.
type UpstreamConfig struct {
	BaseURL     string        // e.g. https://panel:8443; agentPath is appended
	Timeout     time.Duration // per call
	MaxBodySize int64         // largest answer accepted
	HTTPClient  *http.Client  // transport with pooling and TLS settings
}

// Upstream sends packets to one Plesk server.
type Upstream struct {
	url     string
	timeout time.Duration
	maxBody int64
	client  *http.Client
	observe func(op string, outcome string, code int, d time.Duration) // metrics hook; may be nil
}

// NewUpstream returns a client for the Plesk server at cfg.BaseURL.
func NewUpstream(cfg UpstreamConfig) *Upstream {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = 64 << 20
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport}
	}
	return &Upstream{
		url:     strings.TrimRight(cfg.BaseURL, "/") + agentPath,
		timeout: cfg.Timeout,
		maxBody: cfg.MaxBodySize,
		client:  cfg.HTTPClient,
	}
}

// post sends one packet and returns the raw answer.
func (u *Upstream) post(ctx context.Context, creds Credentials, packet []byte) ([]byte, error) {
	countPacket(ctx)
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url, bytes.NewReader(packet))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	// Plesk's header names contain underscores (PROTOCOL.md §1.1); set them raw
	// so Go does not canonicalise them.
	switch {
	case creds.Key != "":
		req.Header["KEY"] = []string{creds.Key}
	case creds.Login != "" || creds.Password != "":
		req.Header["HTTP_AUTH_LOGIN"] = []string{creds.Login}
		req.Header["HTTP_AUTH_PASSWD"] = []string{creds.Password}
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, classifyTransport(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, &UpstreamError{Kind: UpstreamBadStatus, Status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, u.maxBody+1))
	if err != nil {
		return nil, classifyTransport(ctx, err)
	}
	if int64(len(body)) > u.maxBody {
		return nil, &UpstreamError{Kind: UpstreamTooLarge}
	}
	return body, nil
}

func classifyTransport(ctx context.Context, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != context.DeadlineExceeded:
		return err
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &UpstreamError{Kind: UpstreamTimeout, Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The connection broke mid-answer: what we have is not a packet.
		return &UpstreamError{Kind: UpstreamBadStatus, Err: err}
	default:
		return &UpstreamError{Kind: UpstreamUnavailable, Err: err}
	}
}

// Call sends reqs in one packet at protocol v and decodes the replies.
func (u *Upstream) Call(ctx context.Context, creds Credentials, v translator.Version, reqs ...translator.Request) ([]translator.Reply, error) {
	packet, err := translator.EncodeRequest(v, reqs...)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	body, err := u.post(ctx, creds, packet)
	opName := packetOpName(v, reqs)
	if err != nil {
		u.record(opName, "transport_error", 0, start)
		return nil, err
	}
	replies, err := translator.DecodeResponse(v, body, reqs...)
	var perr *translator.Error
	switch {
	case errors.As(err, &perr):
		u.record(opName, "plesk_error", perr.Code, start)
	case err != nil:
		u.record(opName, "malformed", 0, start)
	default:
		u.record(opName, "ok", 0, start)
	}
	return replies, err
}

// Protos asks the server which protocol versions it accepts (server/get_protos).
func (u *Upstream) Protos(ctx context.Context, creds Credentials) ([]translator.Version, error) {
	start := time.Now()
	body, err := u.post(ctx, creds, translator.EncodeGetProtos())
	if err != nil {
		u.record("server/get_protos", "transport_error", 0, start)
		return nil, err
	}
	vs, err := translator.DecodeGetProtos(body)
	var perr *translator.Error
	switch {
	case errors.As(err, &perr):
		u.record("server/get_protos", "plesk_error", perr.Code, start)
	case err != nil:
		u.record("server/get_protos", "malformed", 0, start)
	default:
		u.record("server/get_protos", "ok", 0, start)
	}
	return vs, err
}

func (u *Upstream) record(op, outcome string, code int, start time.Time) {
	if u.observe != nil {
		u.observe(op, outcome, code, time.Since(start))
	}
}

// packetOpName names a packet for metrics: operator/operation of its first request.
func packetOpName(v translator.Version, reqs []translator.Request) string {
	if len(reqs) == 0 {
		return v.Dialect().Operator()
	}
	return v.Dialect().Operator() + "/" + string(reqs[0].Operation())
}

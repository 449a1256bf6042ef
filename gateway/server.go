package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/pleskgate/pleskgate"
	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/gateway/upstream"
)

// Config is everything the gateway needs; cmd/pleskgate builds it from flags
// and the environment, tests build it directly.
type Config struct {
	// Upstream configures the Plesk client. New fills the Logger and the
	// hooks (ObserveCall, ObserveBreaker, OnAttempt) it leaves nil with the
	// gateway's logger, metrics and access-log packet count.
	Upstream           upstream.Config
	UpstreamLabel      string // shown by GET /meta: the panel URL, or "sandbox"
	Protocol           *Protocol
	AuthMode           string               // AuthPassthrough (default) or AuthService
	ServiceCredentials upstream.Credentials // service mode: the gateway's own Plesk credentials
	APIKeys            *APIKeys             // service mode: callers' keys
	DescriptorTTL      time.Duration
	Cache              store.Cache // descriptor cache and listing snapshots; in memory when nil
	Logger             *zap.Logger
	Registry           *prometheus.Registry // metrics are registered here; a fresh one when nil
	MaxBodyBytes       int64                // largest request body; 1 MiB when zero
	Idempotency        store.Idempotency    // Idempotency-Key records; in memory when nil
	IdempotencyTTL     time.Duration        // how long a key is remembered; 24h when zero
	CORSOrigins        []string             // origins allowed by CORS; none (CORS off) when empty
	LegacyStore        store.LegacyStore    // refusals of the legacy operator (legacy.go); in memory when nil
	LegacyRetry        time.Duration        // how long such a refusal is believed; 10m when zero
	// StateSecret keys every caller identity in stores and memos (an
	// HMAC-SHA256, DESIGN.md §5). Replicas sharing a store must share it;
	// random per process when nil.
	StateSecret []byte
	// Locks serialises each client's If-Match check with the change it
	// guards; the Redis of a Redis idempotency store (so across replicas),
	// else in memory, when nil.
	Locks store.Locker
	// ClientLockWait bounds how long a conditional change waits for another
	// one on the same client before it answers 503 client-busy; 10s when zero.
	ClientLockWait time.Duration
	// SnapshotsPerCaller bounds the live GET /clients listing snapshots of
	// one caller (across replicas with Redis); its oldest is dropped beyond
	// it. store.DefaultSnapshotsPerOwner when zero.
	SnapshotsPerCaller int

	// The failed-login shield (shield.go, DESIGN.md §7).
	AuthFailuresPerMinute         int              // failed logins let through per caller address; 10 when zero
	UpstreamAuthFailuresPerMinute int              // failed logins let through for all callers together; 30 when zero
	TrustedProxies                []netip.Prefix   // peers whose X-Forwarded-For is believed
	AuthRecheck                   time.Duration    // how long an accepted login may be served from caches and replays; 60s when zero
	Now                           func() time.Time // the shield's clock; time.Now when nil (tests inject one)

	TracerProvider trace.TracerProvider          // tracing.go: nil, no spans
	Propagator     propagation.TextMapPropagator // W3C Trace Context + Baggage when nil

	// Server limits (HTTPServer, Listen): the largest request head, 431
	// above it (64 KiB when zero), and the connections served at once
	// (4096 when zero; further ones wait to be accepted).
	MaxHeaderBytes int
	MaxConnections int
	// MaxHeaderBytesTotal bounds the bytes all unfinished request heads
	// may hold together, beyond headAllowance each (connections.go); 4 MiB when
	// zero. ReadHeaderTimeout is how long a head may take; 10s when zero.
	MaxHeaderBytesTotal int64
	ReadHeaderTimeout   time.Duration
}

// Server is the HTTP gateway.
type Server struct {
	cfg         Config
	readiness   readyProbe // the last /readyz probe (service.go)
	log         *zap.Logger
	echo        *echo.Echo
	specJSON    []byte
	specYAML    []byte
	routes      map[routeKey]*specRoute // GET /clients/:id → its OpenAPI operation (specroutes.go)
	descriptors *descriptorCache
	snapshots   store.Snapshots // GET /clients walk snapshots: in cfg.Cache when given (Redis), else a memory store of their own
	metrics     *metrics
	upstream    *upstream.Client
	upstreamID  string // short hash of the upstream URL, for shared cache keys
	legacy      *legacyGuard
	shield      *shield

	tracer     trace.Tracer // nil when tracing is off (tracing.go)
	propagator propagation.TextMapPropagator

	conns *connTracker // HTTPServer's and LimitListener's connection limits (connections.go)
}

var _ api.StrictServerInterface = (*Server)(nil)

// New builds the gateway.
func New(cfg Config) (*Server, error) {
	if cfg.Upstream.BaseURL == "" {
		return nil, errors.New("gateway: an upstream URL is required")
	}
	if cfg.Protocol == nil {
		cfg.Protocol = &Protocol{}
	}
	if cfg.AuthMode == "" {
		cfg.AuthMode = AuthPassthrough
	}
	if cfg.AuthMode != AuthPassthrough && cfg.AuthMode != AuthService {
		return nil, fmt.Errorf("gateway: unknown auth mode %q", cfg.AuthMode)
	}
	if cfg.AuthMode == AuthService && (cfg.APIKeys == nil || cfg.ServiceCredentials.Empty()) {
		return nil, errors.New("gateway: service mode needs API keys and upstream credentials")
	}
	if cfg.UpstreamLabel != "sandbox" {
		cfg.UpstreamLabel = RedactURL(cfg.UpstreamLabel) // never userinfo (DESIGN.md §7)
	}
	if cfg.DescriptorTTL <= 0 {
		cfg.DescriptorTTL = 10 * time.Minute
	}
	// Walk snapshots share a configured store (Redis: every replica sees
	// them); in memory they get their own LRU, so a burst of walks cannot
	// evict descriptors and their lifetime does not follow DescriptorTTL.
	snapshots := cfg.Cache
	if cfg.Cache == nil {
		cfg.Cache = store.NewMemoryCache(10000, cfg.DescriptorTTL)
		snapshots = store.NewMemoryCache(1000, snapshotTTL)
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if len(cfg.StateSecret) == 0 {
		cfg.StateSecret = upstream.NewSecret()
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = 64 << 10
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 4096
	}
	if cfg.IdempotencyTTL <= 0 {
		cfg.IdempotencyTTL = 24 * time.Hour
	}
	if cfg.AuthRecheck <= 0 {
		cfg.AuthRecheck = defaultAuthRecheck
	}
	if cfg.Idempotency == nil {
		cfg.Idempotency = store.NewMemoryIdempotency(100000, cfg.IdempotencyTTL)
	}
	if cfg.ClientLockWait <= 0 {
		cfg.ClientLockWait = 10 * time.Second
	}
	if cfg.Locks == nil {
		var shared bool
		if cfg.Locks, shared = store.RedisLockerFor(cfg.Idempotency); !shared {
			cfg.Locks = store.NewMemoryLocker()
		}
	}
	// The spec is loaded from openapi.yaml itself rather than api.GetSpec():
	// code generation leaves out the service endpoints (tag "service"), and
	// both /openapi.json and the validator should know every path.
	spec, err := openapi3.NewLoader().LoadFromData(pleskgate.OpenAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("gateway: openapi.yaml: %w", err)
	}
	specJSON, err := pleskgate.OpenAPIJSON() // in the YAML's order: Swagger UI's defaults are the first entries
	if err != nil {
		return nil, err
	}
	// The validator must not reject requests for other hosts: the gateway is
	// reached under many names (localhost, a service name, an ingress host).
	spec.Servers = nil
	s := &Server{cfg: cfg, log: cfg.Logger, specJSON: specJSON, specYAML: pleskgate.OpenAPIYAML, routes: specRoutes(spec), snapshots: store.NewSnapshots(snapshots, cfg.SnapshotsPerCaller)}
	s.metrics = newMetrics(cfg.Registry)
	s.setupTracing()
	s.descriptors = &descriptorCache{store: cfg.Cache, ttl: cfg.DescriptorTTL, observe: s.metrics.observeCache}
	s.upstream = upstream.New(s.upstreamConfig(cfg.Upstream))
	s.upstreamID = upstream.Keyed(cfg.StateSecret, "upstream", s.upstream.Endpoint())[:16]
	s.shield = newShield(cfg, s.upstreamID, shieldLimits{}, cfg.Registry)
	s.conns = newConnTracker(cfg, cfg.Registry)
	s.legacy = newLegacyGuard(cfg.LegacyStore, s.upstreamID, cfg.LegacyRetry, cfg.Logger, cfg.Registry)
	s.echo = s.newEcho()
	return s, nil
}

// upstreamConfig is uc with what it leaves nil filled by the gateway: its
// logger, its metrics and the access log's packet count.
func (s *Server) upstreamConfig(uc upstream.Config) upstream.Config {
	if uc.Logger == nil {
		uc.Logger = s.log
	}
	if uc.IdentitySecret == nil {
		uc.IdentitySecret = s.cfg.StateSecret
	}
	if uc.ObserveCall == nil {
		uc.ObserveCall = s.metrics.observeUpstream
	}
	if uc.ObserveBreaker == nil {
		uc.ObserveBreaker = s.metrics.observeBreaker
	}
	if uc.OnAttempt == nil {
		uc.OnAttempt = countPacket
	}
	if uc.ObserveAdmission == nil {
		uc.ObserveAdmission = s.metrics.observeAdmission
	}
	if uc.TracerProvider == nil {
		uc.TracerProvider, uc.Propagator = s.cfg.TracerProvider, s.cfg.Propagator
	}
	if uc.ObserveShed == nil {
		uc.ObserveShed = s.metrics.upstreamShed.Inc
	}
	return uc
}

// Upstream is the gateway's Plesk client.
func (s *Server) Upstream() *upstream.Client { return s.upstream }

// Handler is the gateway's http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

func (s *Server) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Binder = jsonBinder{}
	e.JSONSerializer = jsonSerializer{}
	// The request path, in the order every request takes it. Each step is
	// plain Echo middleware in the file named after it.
	e.Use(
		s.requestState,   // reqstate.go: the request's state, X-Request-ID, JSON without HTML escapes
		s.serverSpan,     // tracing.go: the server span, when tracing is on
		s.accessLog,      // accesslog.go: errors written as problems, HTTP metrics, the access-log line
		s.recoverPanic,   // recover.go: a panic below becomes a 500 problem and a log line
		s.cors(),         // cors.go: when origins are configured
		s.limitBody,      // bodylimit.go: 413 over Config.MaxBodyBytes
		s.answerDeadline, // deadline.go: the time the answer must be written by
		s.matchOperation, // specroutes.go: the OpenAPI operation; a POST must be JSON
		s.authenticate,   // authenticate.go: the caller's credentials, where the operation declares security
		s.validate,       // validate.go: kin-openapi against openapi.yaml, and no undeclared query parameter
		s.shieldLogins,   // shield.go: the failed-login shield
		s.idempotency,    // idempotency.go: Idempotency-Key on POSTs
	)

	s.registerServiceRoutes(e)
	api.RegisterHandlers(e, api.NewStrictHandler(s, nil))
	return e
}

// idempotency is idempotent (idempotency.go) as a middleware step.
func (s *Server) idempotency(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error { return s.idempotent(c, next) }
}

// errorHandler is Echo's HTTPErrorHandler: the one place error bodies are written.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p, hdr := problemFor(err)
	p.RequestID = requestID(c)
	p.TraceID = traceIDOf(c)
	p.Instance = c.Request().URL.Path
	for k, vs := range hdr {
		for _, v := range vs {
			c.Response().Header().Add(k, v)
		}
	}
	if c.Request().Header.Get("X-Requested-With") == "XMLHttpRequest" {
		// A script asked (Swagger UI does): let it show the problem rather
		// than have the browser answer the challenge with its own dialog.
		c.Response().Header().Del("WWW-Authenticate")
	}
	if p.PleskErrcode != nil {
		if st := stateOf(c); st != nil {
			st.errcode, st.hasErrcode = *p.PleskErrcode, true
		}
	}
	if p.Status >= 500 && p.Status != http.StatusNotImplemented {
		s.log.Warn("request failed", zap.String("request_id", p.RequestID), zap.Int("status", p.Status), zap.Error(err))
	}
	body, mErr := marshalJSON(p)
	if mErr != nil {
		body = []byte(fallbackProblem)
	}
	body = append(body, '\n') // as every success body ends
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	if c.Request().Method == http.MethodHead {
		c.Response().WriteHeader(p.Status)
		return
	}
	c.Response().WriteHeader(p.Status)
	_, _ = c.Response().Write(body)
}

// echoProblem is the problem of an *echo.HTTPError (Echo's router: 404,
// 405; its binder): the one place the gateway looks inside one.
func echoProblem(err error) (Problem, bool) {
	var herr *echo.HTTPError
	if !errors.As(err, &herr) {
		return Problem{}, false
	}
	if herr.Internal != nil {
		var rerr *openapi3filter.RequestError
		if errors.As(herr.Internal, &rerr) {
			return validationProblem(rerr), true
		}
	}
	status := herr.Code
	return Problem{Type: problemType(slugForStatus(status)), Title: http.StatusText(status), Status: status, Detail: fmt.Sprint(herr.Message)}, true
}

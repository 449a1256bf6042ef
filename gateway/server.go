package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
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
}

// Server is the HTTP gateway.
type Server struct {
	cfg         Config
	readiness   readyProbe // the last /readyz probe (service.go)
	log         *zap.Logger
	echo        *echo.Echo
	specJSON    []byte
	specYAML    []byte
	routes      map[routeKey]specRoute // GET /clients/:id → its OpenAPI operation
	cors        echo.MiddlewareFunc    // nil unless CORS origins are configured
	descriptors *descriptorCache
	snapshots   store.Cache // GET /clients walk snapshots: cfg.Cache when given (Redis), else a memory store of their own
	metrics     *metrics
	upstream    *upstream.Client
	upstreamID  string // short hash of the upstream URL, for shared cache keys
	legacy      *legacyGuard
	shield      *shield

	tracer     trace.Tracer // nil when tracing is off (tracing.go)
	propagator propagation.TextMapPropagator
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
	s := &Server{cfg: cfg, log: cfg.Logger, specJSON: specJSON, specYAML: pleskgate.OpenAPIYAML, routes: specRoutes(spec), snapshots: snapshots}
	s.metrics = newMetrics(cfg.Registry)
	s.shield = newShield(cfg, shieldLimits{}, cfg.Registry)
	s.setupTracing()
	s.descriptors = &descriptorCache{store: cfg.Cache, ttl: cfg.DescriptorTTL, observe: s.metrics.observeCache}
	s.upstream = upstream.New(s.upstreamConfig(cfg.Upstream))
	s.upstreamID = upstream.Keyed(cfg.StateSecret, "upstream", s.upstream.Endpoint())[:16]
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
	if len(s.cfg.CORSOrigins) > 0 {
		// Off unless origins are configured: browsers on other origins get nothing.
		s.cors = middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:  s.cfg.CORSOrigins,
			AllowMethods:  []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete},
			AllowHeaders:  []string{"Authorization", "X-API-Key", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match", "X-Request-ID"},
			ExposeHeaders: []string{"ETag", "Location", "Link", "Cache-Status", "X-Request-ID", "Idempotent-Replayed"},
			MaxAge:        600,
		})
	}
	e.Use(s.chain)

	s.registerServiceRoutes(e)
	api.RegisterHandlers(e, api.NewStrictHandler(s, nil))
	return e
}

// setRequestID accepts a sane X-Request-ID or makes one.
func setRequestID(c echo.Context, st *reqState) {
	id := c.Request().Header.Get(echo.HeaderXRequestID)
	if !validRequestID(id) {
		id = newRequestID()
	}
	st.requestID = id
	c.Response().Header().Set(echo.HeaderXRequestID, id)
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if b := id[i]; b < 0x21 || b > 0x7e {
			return false
		}
	}
	return true
}

// limitBody refuses bodies over the limit with 413 before anything else
// reads them; the rest of such a body is read and thrown away (up to a
// bound: drainOversize), so that a client that writes it all before reading
// receives the 413.
func (s *Server) limitBody(c echo.Context) error {
	r := c.Request()
	if r.ContentLength > s.cfg.MaxBodyBytes {
		drainOversize(r, r.Body)
		return s.tooLarge()
	}
	// A request without a body (http.NoBody: net/http's GET, HEAD, …)
	// keeps it, so the validator can tell that nothing was sent.
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = limitedBody{limited: http.MaxBytesReader(c.Response(), r.Body, s.cfg.MaxBodyBytes), orig: r.Body}
	}
	return nil
}

// tooLarge is the 413 problem for a body over the limit.
func (s *Server) tooLarge() *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Slug: "too-large", Title: "Request body too large",
		Detail: fmt.Sprintf("the body may be at most %d bytes", s.cfg.MaxBodyBytes)}
}

// specRoute is one OpenAPI operation under Echo's spelling of its path.
type specRoute struct {
	// route is what ValidateRequest sees: the operation with its security
	// requirements left out, because the gateway checks credentials itself
	// (authenticate) and kin-openapi's check, with no authentication
	// function, only reads the body into memory once per scheme.
	route       *routers.Route
	operationID string
	needsAuth   bool     // the operation declares security (or inherits the spec's)
	hasParams   bool     // path parameters or a request body to validate
	query       []string // the declared query parameters, sorted (queryparams.go)
	// checks vouch for path and header parameters when fast is set (no
	// request body in the operation, every such parameter simple).
	checks []paramCheck
	fast   bool
}

// routeKey is a method and an Echo route template ("/clients/:id").
type routeKey struct{ method, path string }

// noSecurity is the empty requirement list: ValidateRequest skips the check.
var noSecurity = openapi3.SecurityRequirements{}

// specRoutes indexes the spec's operations by method and Echo route
// template ({id} becomes :id), built once.
func specRoutes(spec *openapi3.T) map[routeKey]specRoute {
	out := map[routeKey]specRoute{}
	for path, item := range spec.Paths.Map() {
		echoPath := path
		for {
			i := strings.IndexByte(echoPath, '{')
			j := strings.IndexByte(echoPath, '}')
			if i < 0 || j < i {
				break
			}
			echoPath = echoPath[:i] + ":" + echoPath[i+1:j] + echoPath[j+1:]
		}
		for method, op := range item.Operations() {
			hasParams := op.RequestBody != nil
			for _, p := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
				if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
					hasParams = true
				}
			}
			needsAuth := op.Security == nil || len(*op.Security) > 0
			checks, simple := compileParamChecks(item, op)
			vop := *op
			vop.Security = &noSecurity
			out[routeKey{method, echoPath}] = specRoute{
				route:       &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: &vop},
				operationID: op.OperationID,
				needsAuth:   needsAuth,
				hasParams:   hasParams,
				query:       declaredQuery(item, op),
				checks:      checks,
				fast:        simple && op.RequestBody == nil,
			}
		}
	}
	return out
}

// validatorOptions are the same for every request.
var validatorOptions = &openapi3filter.Options{
	SkipSettingDefaults: true,
	// Credentials were checked before, against the configured mode; the
	// routes carry no security requirement for ValidateRequest.
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
}

// validate checks every request against openapi.yaml with
// kin-openapi before a handler sees it, and resolves credentials where the
// operation declares security. Defaults are deliberately not filled into
// bodies (SkipSettingDefaults): a merge patch must carry only what was sent;
// handlers apply documented defaults themselves.
// It then hands the request to idempotent.
func (s *Server) validate(c echo.Context, next echo.HandlerFunc) error {
	r := c.Request()
	// Echo has already matched the route: look the operation up by
	// Echo's route template instead of routing a second time.
	info, ok := s.routes[routeKey{r.Method, c.Path()}]
	if !ok {
		// Not an API route (or wrong method): Echo answers 404/405.
		return s.idempotent(c, next)
	}
	if err := requireJSONPost(r); err != nil {
		return err // before anything else: a forged POST gets no further
	}
	st := stateOf(c)
	st.operation = info.operationID
	proceed := s.idempotent
	if info.needsAuth {
		if err := s.authenticate(c, st); err != nil {
			return err
		}
		r = c.Request()
		proceed = s.shielded // the failed-login shield (shield.go)
	}
	if r.URL.RawQuery == "" && r.ContentLength == 0 && r.Body == http.NoBody {
		// No query and no body. When the path and header parameters are
		// simple and their precompiled checks vouch for the values (or,
		// for an operation beyond them, when it has no path parameter and
		// no body), there is nothing left for the walk to find: skip it.
		if info.fast && paramsValid(info.checks, c, r.Header) || !info.fast && !info.hasParams {
			return proceed(c, next)
		}
	}
	if err := checkQuery(r.URL.RawQuery, info.query); err != nil {
		return err
	}
	pathParams := make(map[string]string, len(c.ParamNames()))
	for i, name := range c.ParamNames() {
		pathParams[name] = c.ParamValues()[i]
	}
	input := &openapi3filter.RequestValidationInput{
		Request: r, PathParams: pathParams, Route: info.route, Options: validatorOptions,
	}
	body := r.Body // the validator replaces it with what it read
	if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			// A body without Content-Length (chunked) that ran over.
			if lb, ok := body.(limitedBody); ok {
				drainOversize(r, lb.orig)
			}
			return s.tooLarge()
		}
		return err
	}
	return proceed(c, next)
}

package gateway

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/swaggest/swgui"
	"github.com/swaggest/swgui/v5emb"

	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/translator"
)

// registerServiceRoutes adds the routes openapi.yaml tags `service`: they are
// excluded from code generation because they serve documents, not JSON.
func (s *Server) registerServiceRoutes(e *echo.Echo) {
	e.GET("/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/json", s.specJSON)
	})
	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", s.specYAML)
	})
	// Swagger UI from assets embedded in the binary (swaggest/swgui v5emb): no network needed.
	// Swagger UI marks its requests with X-Requested-With, and the gateway
	// then leaves out the Basic challenge on a 401: a challenge would make
	// the browser open its own sign-in box (or hang headless) instead of
	// showing the problem+json.
	docs := echo.WrapHandler(v5emb.NewWithConfig(swgui.Config{
		SettingsUI: map[string]string{
			"requestInterceptor": `function(r) { r.headers['X-Requested-With'] = 'XMLHttpRequest'; return r; }`,
		},
	})("pleskgate", "/openapi.json", "/docs/"))
	e.GET("/docs", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/docs/") })
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/docs/") }) // a newcomer's first URL
	e.GET("/docs/*", docs)
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{Registry: s.cfg.Registry})))
}

// readyProbeFor is how long one probe's outcome answers /readyz. The route
// is unauthenticated, so without it every call would be a packet to the panel.
const readyProbeFor = 2 * time.Second

// readyProbe is the last /readyz probe: when it ran and whether Plesk answered.
type readyProbe struct {
	mu    sync.Mutex // held during a probe, so concurrent calls share it
	at    time.Time
	ready bool
}

// readyz reports whether Plesk answers at all: any XML API answer, even an
// authentication error, shows the panel is up and speaking the protocol.
// It says ready or not and nothing else (no URL, no error text).
func (s *Server) readyz(c echo.Context) error {
	if !s.probeReady() {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// probeReady sends at most one get_protos per readyProbeFor, whoever asks;
// a caller that goes away does not cut the probe short for the others.
func (s *Server) probeReady() bool {
	p := &s.readiness
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.at.IsZero() && time.Since(p.at) < readyProbeFor {
		return p.ready
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	p.ready = s.CheckUpstream(ctx) == nil
	p.at = time.Now()
	return p.ready
}

// CheckUpstream sends one get_protos, with the credentials the auth mode
// gives (the service's own, none in passthrough), and returns nil when the
// panel answered: any XML API answer, an authentication error included,
// shows it up and speaking the protocol. /readyz and the start-up check
// both ask it. A full queue counts as answered (DESIGN.md §7): the panel is
// busy answering others, unless the breaker says it is failing. So does a
// probe whose time ran out while it waited for a slot: nothing was sent.
func (s *Server) CheckUpstream(ctx context.Context) error {
	creds := upstream.Credentials{}
	if s.cfg.AuthMode == AuthService {
		creds = s.cfg.ServiceCredentials
	}
	_, err := s.upstream.Protos(ctx, creds)
	var perr *translator.Error
	if err == nil || errors.As(err, &perr) {
		return nil
	}
	queued := upstream.Unsent(err) && errors.Is(err, context.DeadlineExceeded)
	if (errors.Is(err, upstream.ErrBusy) || queued) && s.upstream.BreakerState() != "open" {
		return nil
	}
	return err
}

// Command pleskgate serves the REST/JSON gateway. With no upstream URL it runs
// in sandbox mode, in front of an in-process plesksim.
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pleskgate/pleskgate/gateway"
	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/internal/buildinfo"
	"github.com/pleskgate/pleskgate/internal/telemetry"
	"github.com/pleskgate/pleskgate/plesksim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) || errors.Is(err, errVersionShown) {
			return
		}
		fmt.Fprintln(os.Stderr, "pleskgate:", err)
		os.Exit(1)
	}
}

// run starts the gateway and serves until ctx ends, then drains.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	cfg, err := parseConfig(args, getenv, out)
	if err != nil {
		return err
	}
	sandbox := cfg.UpstreamURL == ""
	log, err := newLogger(cfg.LogLevel, sandbox)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	// Whatever run starts in the background (the start-up check) ends with
	// it: cancelled when run returns, and waited for (see below).
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	// Tracing: off unless an OTLP endpoint is set (OTEL_* variables,
	// internal/telemetry). Shut down last, after the drain, so the spans
	// of the drained requests are flushed.
	tracing, err := telemetry.Setup(ctx, getenv, "pleskgate", buildinfo.Get().Version)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tracing.Shutdown(flushCtx); err != nil {
			log.Warn("flushing traces", zap.Error(err))
		}
	}()
	if tracing.Enabled() {
		otel.SetTracerProvider(tracing.Provider)
		otel.SetTextMapPropagator(tracing.Propagator)
		log.Info("tracing on", zap.String("endpoint", tracing.Endpoint), zap.String("protocol", tracing.Protocol))
	}

	gcfg := gateway.Config{
		Logger:             log,
		DescriptorTTL:      cfg.DescriptorTTL,
		AuthMode:           cfg.AuthMode,
		UpstreamLabel:      gateway.RedactURL(cfg.UpstreamURL), // no userinfo in /meta or the log
		CORSOrigins:        cfg.CORSOrigins,
		IdempotencyTTL:     cfg.IdempotencyTTL,
		SnapshotsPerCaller: cfg.SnapshotsPerCaller,
		MaxBodyBytes:       cfg.MaxBodyBytes,
		LegacyRetry:        cfg.LegacyRetry,

		AuthFailuresPerMinute:         cfg.AuthFailuresPerMinute,
		UpstreamAuthFailuresPerMinute: cfg.UpstreamAuthFailuresPerMinute,
		TrustedProxies:                cfg.TrustedProxies,
		AuthRecheck:                   cfg.AuthRecheck,

		TracerProvider: tracing.Provider,
		Propagator:     tracing.Propagator,
	}
	if cfg.StateSecret != "" {
		gcfg.StateSecret = []byte(cfg.StateSecret)
	}
	if gcfg.Protocol, err = gateway.ParseProtocolSetting(cfg.Protocol); err != nil {
		return err
	}
	if cfg.AuthMode == gateway.AuthService {
		if gcfg.APIKeys, err = gateway.LoadAPIKeys(cfg.APIKeysFile); err != nil {
			return err
		}
		gcfg.ServiceCredentials = upstream.Credentials{Login: cfg.UpstreamLogin, Password: cfg.UpstreamPassword, Key: cfg.UpstreamKey}
	}

	if cfg.RedisURL == "" {
		gcfg.Idempotency = store.NewMemoryIdempotencyLimited(100000, cfg.IdempotencyPerCaller)
	} else {
		cache, idem, closer, err := store.NewRedis(cfg.RedisURL, store.WithOwnerLimit(cfg.IdempotencyPerCaller), store.WithTracerProvider(tracing.Provider))
		if err != nil {
			return fmt.Errorf("PLESKGATE_REDIS_URL: %w", err)
		}
		defer func() { _ = closer.Close() }() // after Shutdown has drained requests
		gcfg.Cache, gcfg.Idempotency = cache, idem
		gcfg.LegacyStore, _ = store.RedisLegacyStoreFor(idem) // replicas share what they learn
		redisLog := log.Named("redis")
		store.SetRedisLogger(func(msg string) { redisLog.Warn(msg) })
		// Not fatal: a Redis that is down now is handled like one that goes
		// down later (reads bypass the cache, keyed POSTs get 503).
		pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if _, _, err := cache.Get(pingCtx, "pleskgate:ping"); err != nil {
			log.Warn("Redis unreachable at start-up; serving without the shared cache, and refusing POSTs with an Idempotency-Key until it answers", zap.Error(err))
		} else {
			log.Info("shared state in Redis", zap.String("redis", redactRedisURL(cfg.RedisURL)))
		}
		cancel()
	}

	upstreamURL := cfg.UpstreamURL
	if sandbox {
		simURL, stopSim, err := startSandbox(cfg, log, out)
		if err != nil {
			return err
		}
		defer stopSim()
		upstreamURL = simURL
		gcfg.UpstreamLabel = "sandbox"
	}
	transport, err := upstreamTransport(cfg, log)
	if err != nil {
		return err
	}
	gcfg.Upstream = upstream.Config{
		BaseURL:      upstreamURL,
		Timeout:      cfg.UpstreamTimeout,
		Transport:    transport,
		Concurrency:  cfg.UpstreamConcurrency,
		MaxBodySize:  cfg.UpstreamMaxAnswerBytes,
		AnswerBudget: cfg.UpstreamAnswerBudgetBytes,
		Queue:        cfg.UpstreamQueue,

		RetryMax:            cfg.RetryMax,
		RetryInitial:        cfg.RetryInitial,
		BreakerMinCalls:     cfg.BreakerMinCalls,
		BreakerFailureRatio: cfg.BreakerFailureRatio,
		BreakerWindow:       cfg.BreakerWindow,
		BreakerOpenFor:      cfg.BreakerOpenFor,
	}
	gcfg.MaxHeaderBytes, gcfg.MaxConnections = cfg.MaxHeaderBytes, cfg.MaxConnections
	gcfg.MaxHeaderBytesTotal, gcfg.ReadHeaderTimeout = cfg.MaxHeaderBytesTotal, cfg.ReadHeaderTimeout
	srv, err := gateway.New(gcfg)
	if err != nil {
		return err
	}

	ln, err := srv.Listen(cfg.Listen) // at most PLESKGATE_MAX_CONNECTIONS at once, idle ones shed first
	if err != nil {
		return err
	}
	hs := srv.HTTPServer() // PLESKGATE_MAX_HEADER_BYTES, timeouts; tells ln which connections are idle
	log.Info("pleskgate listening", zap.String("addr", ln.Addr().String()), zap.String("upstream", gcfg.UpstreamLabel),
		zap.String("protocol", cfg.Protocol), zap.String("auth_mode", cfg.AuthMode))
	if sandbox {
		fmt.Fprintf(out, "Swagger UI: http://%s/docs/\n\n", displayAddr(ln.Addr()))
	} else {
		checked := make(chan struct{})
		go func() {
			defer close(checked)
			checkUpstream(ctx, srv, gcfg.UpstreamLabel, cfg.UpstreamTimeout, log)
		}()
		defer func() { stop(); <-checked }() // nothing logged once run has returned
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// checkUpstream asks the panel once at start (gateway's CheckUpstream, the
// /readyz probe) and logs a warning when it does not answer, so that a
// wrong URL or an unreachable panel shows in the first lines of the log, not
// only in each request's answer. The gateway serves either way: the panel
// may come up later. Nothing is logged once ctx is cancelled.
func checkUpstream(ctx context.Context, srv *gateway.Server, label string, timeout time.Duration, log *zap.Logger) {
	log.Debug("start-up check: sending get_protos", zap.String("upstream", label))
	probeCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := srv.CheckUpstream(probeCtx); err != nil && ctx.Err() == nil {
		log.Warn("the upstream did not answer get_protos at start; serving anyway, requests that need it fail until it answers",
			zap.String("upstream", label), zap.Error(err))
	}
}

// startSandbox serves a plesksim on a loopback port and prints how to log in.
func startSandbox(cfg config, log *zap.Logger, out io.Writer) (string, func(), error) {
	password := cfg.SandboxPassword
	if password == "" {
		password = randomPassword()
	}
	// The demo data plesksim --demo seeds too (plesksim.WithDemo): a
	// reseller, demo clients, a couple of plans, and Plesk's password policy,
	// so that change-owner, convert-to-reseller and a weak password behave
	// as on a panel.
	simCfg := plesksim.WithDemo(plesksim.Config{
		AdminLogin: "admin", AdminPassword: password,
		PasswordPolicy: plesksim.DefaultPasswordPolicy,
	})
	resellerPassword := password + plesksim.DemoResellerSuffix
	sim, err := plesksim.New(simCfg)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	fmt.Fprintf(out, `
  ┌────────────────────────────────────────────────────────────┐
  │ pleskgate SANDBOX: in front of a built-in Plesk simulator. │
  │ Nothing here touches a real panel; state is lost on exit.  │
  └────────────────────────────────────────────────────────────┘
  administrator  login: admin     password: %s
  reseller       login: %s  password: %s
  demo clients   password: %s (each)
                 %s
  Use HTTP Basic with these, e.g.  curl -u admin:%s http://localhost%s/clients
  service plans (change-owner plan_name): %s (admin); %s (reseller)
  reseller plans (convert-to-reseller):   %s
  password policy: %s, new client passwords need %s
`, password, plesksim.DemoResellerLogin, resellerPassword, plesksim.DemoClientPassword, demoClients(sim.Clients()), password, portOf(cfg.Listen),
		strings.Join(simCfg.HostingPlans, ", "), plesksim.DemoResellerPlan.Name, strings.Join(simCfg.ResellerPlans, ", "),
		simCfg.PasswordPolicy, simCfg.PasswordPolicy.Rule())
	log.Info("sandbox simulator started", zap.String("addr", ln.Addr().String()))
	return "http://" + ln.Addr().String(), func() { _ = hs.Close() }, nil
}

// demoClients lists the seeded clients by owner, one line per owner:
// "owner admin:    3 jdoe, 4 asmith" (ids as the simulator gave them), then
// the clients kept for Swagger UI's destructive examples, one a line.
func demoClients(clients []plesksim.Client) string {
	purpose := map[string]string{}
	for _, d := range plesksim.DemoSeed {
		purpose[d.Login] = d.For
	}
	var owners, examples []string
	byOwner := map[string][]string{}
	for _, c := range clients {
		if p := purpose[c.Login]; p != "" {
			examples = append(examples, fmt.Sprintf("%d %s (%s)", c.ID, c.Login, p))
			continue
		}
		if _, ok := byOwner[c.OwnerLogin]; !ok {
			owners = append(owners, c.OwnerLogin)
		}
		byOwner[c.OwnerLogin] = append(byOwner[c.OwnerLogin], fmt.Sprintf("%d %s", c.ID, c.Login))
	}
	lines := make([]string, 0, len(owners)+len(examples)+1)
	for _, o := range owners {
		lines = append(lines, fmt.Sprintf("%-15s %s", "owner "+o+":", strings.Join(byOwner[o], ", ")))
	}
	if len(examples) > 0 {
		lines = append(lines, "kept for Swagger UI's destructive examples, each works once:")
		for _, e := range examples {
			lines = append(lines, "  "+e)
		}
	}
	return strings.Join(lines, "\n                 ")
}

func randomPassword() string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func portOf(listen string) string {
	_, port, err := net.SplitHostPort(listen)
	if err != nil || port == "" {
		return ""
	}
	return ":" + port
}

func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// upstreamTransport pools connections to the panel and applies TLS trust.
func upstreamTransport(cfg config, log *zap.Logger) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	t.IdleConnTimeout = 90 * time.Second
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.UpstreamCAFile != "" {
		pem, err := os.ReadFile(cfg.UpstreamCAFile)
		if err != nil {
			return nil, fmt.Errorf("PLESKGATE_UPSTREAM_CA_FILE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("PLESKGATE_UPSTREAM_CA_FILE: no PEM certificate in %s", cfg.UpstreamCAFile)
		}
		tlsCfg.RootCAs = pool
	}
	if cfg.UpstreamInsecure {
		log.Warn("PLESKGATE_UPSTREAM_INSECURE is set: the panel's TLS certificate is NOT verified")
		tlsCfg.InsecureSkipVerify = true
	}
	t.TLSClientConfig = tlsCfg
	return t, nil
}

func newLogger(level string, sandbox bool) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, err
	}
	var zc zap.Config
	if sandbox {
		zc = zap.NewDevelopmentConfig()
		zc.DisableStacktrace = true
	} else {
		zc = zap.NewProductionConfig()
	}
	zc.Level = zap.NewAtomicLevelAt(lvl)
	return zc.Build()
}

// redactRedisURL hides the password of a Redis URL for the log.
func redactRedisURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pleskgate/pleskgate/gateway"
	"github.com/pleskgate/pleskgate/internal/buildinfo"
)

// minStateSecret is the shortest PLESKGATE_STATE_SECRET accepted: 32
// characters of `openssl rand -hex 32`'s 64 are 128 bits.
const minStateSecret = 32

// errVersionShown ends the program with status 0 after --version.
var errVersionShown = errors.New("version shown")

// config is DESIGN.md §6: every setting is an environment variable
// PLESKGATE_X and a flag --x; flags win over the environment.
type config struct {
	Listen               string
	UpstreamURL          string
	Protocol             string
	AuthMode             string
	UpstreamLogin        string
	UpstreamPassword     string
	UpstreamKey          string
	APIKeysFile          string
	UpstreamTimeout      time.Duration
	UpstreamCAFile       string
	UpstreamInsecure     bool
	DescriptorTTL        time.Duration
	RedisURL             string
	LogLevel             string
	SandboxPassword      string
	CORSOrigins          []string
	IdempotencyTTL       time.Duration
	IdempotencyPerCaller int // live Idempotency-Key records one caller may hold
	SnapshotsPerCaller   int // live GET /clients listing snapshots one caller may hold
	MaxBodyBytes         int64
	LegacyRetry          time.Duration
	StateSecret          string // HMAC key for caller identities in shared state

	UpstreamConcurrency int // packets in flight to Plesk at once (admission)
	UpstreamQueue       int // callers waiting for a slot before 503 upstream-busy

	UpstreamMaxAnswerBytes    int64 // largest answer read from Plesk (502 above)
	UpstreamAnswerBudgetBytes int64 // bytes of all answers being read or decoded at once

	// The failed-login shield (DESIGN.md §7).
	AuthFailuresPerMinute         int
	UpstreamAuthFailuresPerMinute int
	TrustedProxies                []netip.Prefix
	AuthRecheck                   time.Duration

	// Retries and the circuit breaker (upstream.Config), and the server's
	// limits (issue 13): limitSettings.
	RetryMax            int // retries of a read; -1 when the setting is 0 (none)
	RetryInitial        time.Duration
	BreakerMinCalls     uint32
	BreakerFailureRatio float64
	BreakerWindow       time.Duration
	BreakerOpenFor      time.Duration
	MaxHeaderBytes      int           // largest request head (431 above)
	MaxConnections      int           // connections served at once; more wait in the kernel's backlog
	MaxHeaderBytesTotal int64         // bytes all unfinished request heads may hold together
	ReadHeaderTimeout   time.Duration // how long a request head may take
}

type setting struct {
	name  string // flag name; the variable is PLESKGATE_ + upper snake case
	def   string
	usage string
	set   func(c *config, v string) error
}

func str(dst func(*config) *string) func(*config, string) error {
	return func(c *config, v string) error { *dst(c) = v; return nil }
}

func dur(dst func(*config) *time.Duration) func(*config, string) error {
	return func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration such as 30s", v)
		}
		*dst(c) = d
		return nil
	}
}

func posInt(dst func(*config) *int) func(*config, string) error {
	return func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive integer", v)
		}
		*dst(c) = n
		return nil
	}
}

var settings = append(baseSettings, limitSettings...)

// limitSettings are the retry, breaker and server-limit settings (issue 13).
// Their defaults are those gateway/upstream documents for Config.
var limitSettings = []setting{
	{"retry-max", "2", "retries of a packet of read-only operations after a panel failure: transport error or HTTP 5xx; 0 = none", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 10 {
			return fmt.Errorf("%q is not a number of retries from 0 to 10", v)
		}
		c.RetryMax = n
		if n == 0 {
			c.RetryMax = -1 // upstream.Config: 0 is the default, negative disables
		}
		return nil
	}},
	{"retry-initial", "100ms", "first backoff between retries of a read (exponential, jittered)", dur(func(c *config) *time.Duration { return &c.RetryInitial })},
	{"breaker-min-calls", "20", "calls a breaker window must hold before its failure ratio can open the breaker", func(c *config, v string) error {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return fmt.Errorf("%q is not a positive number of calls", v)
		}
		c.BreakerMinCalls = uint32(n)
		return nil
	}},
	{"breaker-failure-ratio", "0.5", "share of panel failures (refused, reset, timeout, HTTP 5xx) in a window that opens the breaker", func(c *config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f <= 1) {
			return fmt.Errorf("%q is not a ratio above 0 and at most 1", v)
		}
		c.BreakerFailureRatio = f
		return nil
	}},
	{"breaker-window", "30s", "window over which the breaker counts calls and failures", dur(func(c *config) *time.Duration { return &c.BreakerWindow })},
	{"breaker-open-for", "30s", "how long the open breaker answers 503 at once before it lets one trial call through (half-open)", dur(func(c *config) *time.Duration { return &c.BreakerOpenFor })},
	{"max-header-bytes", "65536", "largest request line and headers accepted (431 above)", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1024 || n > 64<<20 {
			return fmt.Errorf("%q is not a number of bytes from 1024 to 67108864", v)
		}
		c.MaxHeaderBytes = n
		return nil
	}},
	{"max-connections", "4096", "connections open at once; a new one at the limit closes the connection that has waited longest for a request (idle keep-alive, or silent); only when all are busy does it wait to be accepted", posInt(func(c *config) *int { return &c.MaxConnections })},
	{"max-header-bytes-total", "4194304", "bytes all request heads still being read may hold together, beyond the first 4 KiB of each; a connection whose head would go over is closed", func(c *config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 || n > 1<<30 {
			return fmt.Errorf("%q is not a number of bytes from 1024 to 1073741824", v)
		}
		c.MaxHeaderBytesTotal = n
		return nil
	}},
	{"read-header-timeout", "10s", "how long a connection may take to send a request's line and headers (also the next one on a keep-alive connection, once it has started)", dur(func(c *config) *time.Duration { return &c.ReadHeaderTimeout })},
}

var baseSettings = []setting{
	{"listen", ":8080", "address to serve on", str(func(c *config) *string { return &c.Listen })},
	{"upstream-url", "", "Plesk base URL, e.g. https://panel:8443 (the gateway appends /enterprise/control/agent.php, and drops it from a URL that already ends with it); unset = sandbox mode", str(func(c *config) *string { return &c.UpstreamURL })},
	{"protocol", "auto", "auto (ask the server which versions it speaks, pick per operation), or one version or a comma-separated list to pin", str(func(c *config) *string { return &c.Protocol })},
	{"auth-mode", "passthrough", "passthrough (callers' Plesk credentials go upstream) or service (the gateway's own credentials; callers present API keys)", str(func(c *config) *string { return &c.AuthMode })},
	{"upstream-login", "", "service mode: the gateway's Plesk login", str(func(c *config) *string { return &c.UpstreamLogin })},
	{"upstream-password", "", "service mode: the gateway's Plesk password", str(func(c *config) *string { return &c.UpstreamPassword })},
	{"upstream-key", "", "service mode: the gateway's Plesk secret key (instead of login and password)", str(func(c *config) *string { return &c.UpstreamKey })},
	{"api-keys-file", "", "service mode: JSON file of callers' API keys [{name, scope: read|write, sha256}]", str(func(c *config) *string { return &c.APIKeysFile })},
	{"upstream-timeout", "30s", "per-call timeout for Plesk", dur(func(c *config) *time.Duration { return &c.UpstreamTimeout })},
	{"upstream-concurrency", "8", "at most this many packets in flight to Plesk at once; no caller identity holds more than half while others wait", posInt(func(c *config) *int { return &c.UpstreamConcurrency })},
	{"upstream-queue", "64", "callers that may wait for a free slot; beyond it, or past the request's deadline, 503 upstream-busy with Retry-After", posInt(func(c *config) *int { return &c.UpstreamQueue })},
	{"upstream-ca-file", "", "PEM file of CAs to trust for the panel (default: system roots)", str(func(c *config) *string { return &c.UpstreamCAFile })},
	{"upstream-insecure", "false", "skip TLS verification of the panel (self-signed panels; logs a warning)", func(c *config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		c.UpstreamInsecure = b
		return nil
	}},
	{"descriptor-ttl", "10m", "descriptor cache lifetime", dur(func(c *config) *time.Duration { return &c.DescriptorTTL })},
	{"redis-url", "", "Redis shared by every replica for the descriptor cache and Idempotency-Key records, e.g. redis://redis:6379/0 (rediss:// for TLS); unset = in memory", str(func(c *config) *string { return &c.RedisURL })},
	{"state-secret", "", "HMAC key (at least 32 characters) for caller identities in the descriptor cache, Idempotency-Key records and every memo; required with PLESKGATE_REDIS_URL (every replica must share it); unset = random per process", str(func(c *config) *string { return &c.StateSecret })},
	{"log-level", "info", "debug, info, warn or error", str(func(c *config) *string { return &c.LogLevel })},
	{"sandbox-password", "", "sandbox mode: the simulated administrator's password (random when unset)", str(func(c *config) *string { return &c.SandboxPassword })},
	{"cors-origins", "", "comma-separated origins allowed by CORS, e.g. https://app.example; empty = CORS off", func(c *config, v string) error {
		c.CORSOrigins = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.CORSOrigins = append(c.CORSOrigins, o)
			}
		}
		return nil
	}},
	{"legacy-retry", "10m", "after a panel refuses the legacy client operator, how long its legacy-only operations answer 501 before a packet is tried again (also tried at start-up)", dur(func(c *config) *time.Duration { return &c.LegacyRetry })},
	{"auth-recheck", "60s", "how long a login Plesk accepted may be served from the descriptor cache and Idempotency-Key replays; older ones are checked with the panel first (one get_protos packet)", dur(func(c *config) *time.Duration { return &c.AuthRecheck })},
	{"auth-failures-per-minute", "10", "failed logins let through to Plesk per caller address and minute; beyond, 429 with Retry-After for credentials Plesk has not accepted recently", posInt(func(c *config) *int { return &c.AuthFailuresPerMinute })},
	{"upstream-auth-failures-per-minute", "30", "failed logins let through to Plesk per minute for all callers together (keep it under the panel's fail2ban threshold)", posInt(func(c *config) *int { return &c.UpstreamAuthFailuresPerMinute })},
	{"trusted-proxies", "", "comma-separated CIDRs of proxies whose X-Forwarded-For is believed for the caller address; unset = the TCP peer only", func(c *config, v string) error {
		ps, err := gateway.ParseTrustedProxies(v)
		if err != nil {
			return err
		}
		c.TrustedProxies = ps
		return nil
	}},
	{"idempotency-ttl", "24h", "how long an Idempotency-Key and its response are remembered", dur(func(c *config) *time.Duration { return &c.IdempotencyTTL })},
	{"listing-snapshots-per-caller", "100", "live GET /clients listing snapshots one caller may hold (across replicas with Redis); a new walk beyond it drops the caller's oldest, whose next page then re-reads its ids", posInt(func(c *config) *int { return &c.SnapshotsPerCaller })},
	{"idempotency-per-caller", "1000", "live Idempotency-Key records one caller (identity, or API key in service mode) may hold; beyond it 429 idempotency-quota and nothing is sent", posInt(func(c *config) *int { return &c.IdempotencyPerCaller })},
	{"upstream-max-answer-bytes", "16777216", "largest answer read from Plesk; a bigger one is 502 (refused unread when its Content-Length says so)", bytesSetting(func(c *config) *int64 { return &c.UpstreamMaxAnswerBytes })},
	{"upstream-answer-budget-bytes", "33554432", "bytes of Plesk's answers being read or decoded at once, in all; a reader waits for room within its timeout", bytesSetting(func(c *config) *int64 { return &c.UpstreamAnswerBudgetBytes })},
	{"max-body-bytes", "1048576", "largest request body accepted (413 above)", bytesSetting(func(c *config) *int64 { return &c.MaxBodyBytes })},
}

// bytesSetting parses a positive number of bytes into the field get names.
func bytesSetting(get func(*config) *int64) func(*config, string) error {
	return func(c *config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive number of bytes", v)
		}
		*get(c) = n
		return nil
	}
}

func envName(flagName string) string {
	return "PLESKGATE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseConfig reads defaults, then the environment, then flags.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("pleskgate", flag.ContinueOnError)
	fs.SetOutput(out)
	flagged := map[string]*string{}
	for _, s := range settings {
		flagged[s.name] = fs.String(s.name, "", fmt.Sprintf("%s (env %s, default %q)", s.usage, envName(s.name), s.def))
	}
	showVersion := fs.Bool("version", false, "print the version, commit and Go version, and exit")
	fs.Usage = func() {
		fmt.Fprintln(out, "pleskgate: a REST/JSON gateway in front of Plesk's XML API.\n\nUsage: pleskgate [flags]\nWith no upstream URL it starts in sandbox mode, in front of a built-in simulator.\n\nFlags (each also an environment variable; flags win):")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if *showVersion {
		fmt.Fprintln(out, buildinfo.Get().String("pleskgate"))
		return c, errVersionShown
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, s := range settings {
		v := s.def
		if e := getenv(envName(s.name)); e != "" {
			v = e
		}
		if set[s.name] {
			v = *flagged[s.name]
		}
		if err := s.set(&c, v); err != nil {
			return c, fmt.Errorf("%s / --%s: %w", envName(s.name), s.name, err)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return c, fmt.Errorf("PLESKGATE_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel)
	}
	if c.MaxHeaderBytesTotal < int64(c.MaxHeaderBytes) {
		return c, fmt.Errorf("PLESKGATE_MAX_HEADER_BYTES_TOTAL (%d) is below PLESKGATE_MAX_HEADER_BYTES (%d): a head of the largest size allowed could never be read", c.MaxHeaderBytesTotal, c.MaxHeaderBytes)
	}
	if c.UpstreamURL != "" {
		base, err := upstreamBase(c.UpstreamURL)
		if err != nil {
			return c, fmt.Errorf("PLESKGATE_UPSTREAM_URL: %w", err)
		}
		c.UpstreamURL = base
	}
	if c.AuthMode != "passthrough" && c.AuthMode != "service" {
		return c, fmt.Errorf("PLESKGATE_AUTH_MODE: %q is not passthrough or service", c.AuthMode)
	}
	if c.RedisURL != "" && c.StateSecret == "" {
		return c, errors.New("PLESKGATE_STATE_SECRET is required with PLESKGATE_REDIS_URL: every replica must key caller identities in Redis with the same secret (e.g. `openssl rand -hex 32`)")
	}
	if c.StateSecret != "" && len(c.StateSecret) < minStateSecret {
		return c, fmt.Errorf("PLESKGATE_STATE_SECRET: at least %d characters are needed (e.g. `openssl rand -hex 32`)", minStateSecret)
	}
	if c.AuthMode == "service" {
		if c.APIKeysFile == "" {
			return c, errors.New("service mode needs PLESKGATE_API_KEYS_FILE")
		}
		if c.UpstreamKey == "" && (c.UpstreamLogin == "" || c.UpstreamPassword == "") {
			return c, errors.New("service mode needs PLESKGATE_UPSTREAM_KEY or PLESKGATE_UPSTREAM_LOGIN and PLESKGATE_UPSTREAM_PASSWORD")
		}
	}
	return c, nil
}

// agentPath is what the gateway appends to PLESKGATE_UPSTREAM_URL (the
// upstream package's own copy is unexported).
const agentPath = "/enterprise/control/agent.php"

// upstreamBase checks a panel URL and returns it without trailing slashes
// or a trailing agentPath, so that every spelling of one panel reaches the
// gateway (its label, its keys) as one: without a scheme and host
// ("127.0.0.1:8443") every call would fail, so it is a start-up error; one
// copied from a Plesk document with the agent path would get it twice. The
// error never shows the URL's userinfo.
func upstreamBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return "", errors.New("not an http:// or https:// URL with a host, such as https://panel:8443")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s: a base URL takes no query or fragment", gateway.RedactURL(raw))
	}
	base := strings.TrimRight(raw, "/")
	if b, ok := strings.CutSuffix(base, agentPath); ok {
		base = strings.TrimRight(b, "/")
	}
	return base, nil
}

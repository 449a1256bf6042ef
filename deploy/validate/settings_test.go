package validate

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// repoRoot is the gateway's repository, two levels up from this module.
const repoRoot = "../.."

// designEnv is DESIGN.md §6's list of configuration variables: a contract.
// TestDesignEnvList keeps it equal to the document when ../shared is present.
var designEnv = []string{
	"PLESKGATE_LISTEN",
	"PLESKGATE_UPSTREAM_URL",
	"PLESKGATE_PROTOCOL",
	"PLESKGATE_AUTH_MODE",
	"PLESKGATE_UPSTREAM_LOGIN",
	"PLESKGATE_UPSTREAM_PASSWORD",
	"PLESKGATE_UPSTREAM_KEY",
	"PLESKGATE_API_KEYS_FILE",
	"PLESKGATE_UPSTREAM_TIMEOUT",
	"PLESKGATE_UPSTREAM_CA_FILE",
	"PLESKGATE_UPSTREAM_INSECURE",
	"PLESKGATE_DESCRIPTOR_TTL",
	"PLESKGATE_REDIS_URL",
	"PLESKGATE_LOG_LEVEL",
	"PLESKGATE_CORS_ORIGINS",
	"PLESKGATE_IDEMPOTENCY_TTL",
	"PLESKGATE_MAX_BODY_BYTES",
	"PLESKGATE_SANDBOX_PASSWORD",
	"PLESKGATE_STATE_SECRET",
	"PLESKGATE_AUTH_RECHECK",
	"PLESKGATE_UPSTREAM_CONCURRENCY",
	"PLESKGATE_UPSTREAM_QUEUE",
	"PLESKGATE_AUTH_FAILURES_PER_MINUTE",
	"PLESKGATE_UPSTREAM_AUTH_FAILURES_PER_MINUTE",
	"PLESKGATE_TRUSTED_PROXIES",
	"PLESKGATE_MAX_HEADER_BYTES",
	"PLESKGATE_MAX_CONNECTIONS",
}

// notYetRead are §6 variables the binary does not read yet: the settings of
// the open issues [shield] (failed-login budgets)
// and [safety] (state secret, auth recheck). A deployment file may not set
// them, since the binary would ignore them; each leaves this list with the
// change that reads it (TestBinaryReadsEnv fails once one is read and still listed).
var notYetRead = map[string]bool{}

// otelEnv are the OpenTelemetry SDK's standard variables the gateway honours
// (internal/telemetry): tracing is off unless an endpoint is set.
var otelEnv = map[string]bool{
	"OTEL_EXPORTER_OTLP_ENDPOINT": true, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": true,
	"OTEL_EXPORTER_OTLP_PROTOCOL": true, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": true,
	"OTEL_EXPORTER_OTLP_HEADERS": true, "OTEL_EXPORTER_OTLP_TIMEOUT": true,
	"OTEL_SERVICE_NAME": true, "OTEL_RESOURCE_ATTRIBUTES": true,
	"OTEL_TRACES_SAMPLER": true, "OTEL_TRACES_SAMPLER_ARG": true,
	"OTEL_BSP_SCHEDULE_DELAY": true, "OTEL_BSP_EXPORT_TIMEOUT": true,
	"OTEL_BSP_MAX_QUEUE_SIZE": true, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": true,
	"OTEL_SDK_DISABLED": true, "OTEL_TRACES_EXPORTER": true,
}

// extraEnv are variables the binary reads beyond §6, each with the reason a
// deployment file may set it.
var extraEnv = map[string]string{
	"PLESKGATE_IDEMPOTENCY_PER_CALLER": "the bound on one caller's live Idempotency-Key records (issue 14 asks for a bound; DESIGN.md §6 names no variable)",
	"PLESKGATE_LEGACY_RETRY":           "how long a panel's refusal of the legacy client operator is believed (README; DESIGN.md §2 asks for the setting, §6 does not list it)",
	// Issue 13: retry and breaker parameters become settings with the
	// defaults the README documented.
	"PLESKGATE_RETRY_MAX":             "retries of a read after a panel failure (README; issue 13)",
	"PLESKGATE_RETRY_INITIAL":         "first backoff between read retries (README; issue 13)",
	"PLESKGATE_BREAKER_MIN_CALLS":     "calls in a breaker window before it may open (README; issue 13)",
	"PLESKGATE_BREAKER_FAILURE_RATIO": "failure share that opens the breaker (README; issue 13)",
	"PLESKGATE_BREAKER_WINDOW":        "window over which the breaker counts (README; issue 13)",
	"PLESKGATE_BREAKER_OPEN_FOR":      "how long the breaker stays open (README; issue 13)",
	// Issue 26: the bounds of the worst day.
	"PLESKGATE_MAX_HEADER_BYTES_TOTAL":       "bytes all unfinished request heads may hold together (README; DESIGN.md §7 asks for the bound)",
	"PLESKGATE_READ_HEADER_TIMEOUT":          "how long a request's line and headers may take (README)",
	"PLESKGATE_LISTING_SNAPSHOTS_PER_CALLER": "listing snapshots one caller may hold (README; DESIGN.md §7 asks for the bound)",
	"PLESKGATE_UPSTREAM_MAX_ANSWER_BYTES":    "the largest answer read from Plesk (README; DESIGN.md §7 asks for the bound)",
	"PLESKGATE_UPSTREAM_ANSWER_BUDGET_BYTES": "bytes of Plesk's answers read or decoded at once (README; DESIGN.md §7 asks for the bound)",
}

func allowedEnv(name string) bool {
	_, extra := extraEnv[name]
	if otelEnv[name] {
		return true // read by internal/telemetry and the OTLP exporter, not config.go
	}
	return extra || slices.Contains(designEnv, name) && !notYetRead[name]
}

// TestDesignEnvList compares designEnv with DESIGN.md §6, which lives in
// ../shared beside the repository (as in CI); skipped when it is absent.
func TestDesignEnvList(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "..", "shared", "DESIGN.md"))
	if err != nil {
		t.Skipf("DESIGN.md not found beside the repository: %v", err)
	}
	doc := string(data)
	start := strings.Index(doc, "\n## 6.")
	if start < 0 {
		t.Fatal("DESIGN.md has no section 6")
	}
	section := doc[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var inDoc []string
	for _, m := range regexp.MustCompile(`\bPLESKGATE_[A-Z0-9_]*[A-Z0-9]\b`).FindAllString(section, -1) {
		if !slices.Contains(inDoc, m) {
			inDoc = append(inDoc, m)
		}
	}
	want := slices.Sorted(slices.Values(designEnv))
	slices.Sort(inDoc)
	if !slices.Equal(inDoc, want) {
		t.Errorf("DESIGN.md §6 lists %v;\nthis test lists %v", inDoc, want)
	}
}

// TestBinaryReadsEnv checks that cmd/pleskgate really reads every variable the
// deployment files may set (a setting the binary ignores would fail silently).
// It reads the settings table of cmd/pleskgate/config.go and is skipped if
// that table is not found.
func TestBinaryReadsEnv(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "cmd", "pleskgate", "config.go"))
	if err != nil {
		t.Skipf("cmd/pleskgate/config.go: %v", err)
	}
	read := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*\{"([a-z][a-z0-9-]*)",\s*"`).FindAllStringSubmatch(string(src), -1) {
		read["PLESKGATE_"+strings.ToUpper(strings.ReplaceAll(m[1], "-", "_"))] = true
	}
	if len(read) == 0 {
		t.Skip("no settings table found in cmd/pleskgate/config.go")
	}
	for _, name := range append(slices.Clone(designEnv), slices.Collect(maps.Keys(extraEnv))...) {
		if notYetRead[name] {
			if read[name] {
				t.Errorf("%s is read by cmd/pleskgate now: remove it from notYetRead", name)
			}
			continue
		}
		if !read[name] {
			t.Errorf("%s is allowed in deployment files but cmd/pleskgate does not read it", name)
		}
	}
	for name := range read {
		if !allowedEnv(name) {
			t.Errorf("cmd/pleskgate reads %s but a deployment file may not set it: add it to extraEnv with the reason", name)
		}
	}
}

// checkSettings validates the values of PLESKGATE_* settings the way
// cmd/pleskgate would, so a manifest cannot ship a value the gateway refuses.
// Values that come from Secrets are passed as "" and not checked.
func checkSettings(env map[string]string) []error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s=%q: %s", name, env[name], fmt.Sprintf(format, args...)))
	}
	for name, v := range env {
		if !allowedEnv(name) {
			errs = append(errs, fmt.Errorf("%s is not a pleskgate setting (DESIGN.md §6)", name))
			continue
		}
		if v == "" {
			continue
		}
		switch name {
		case "PLESKGATE_LISTEN":
			if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
				bad(name, "want host:port or :port")
			}
		case "PLESKGATE_UPSTREAM_URL":
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad(name, "want an http(s) base URL")
			}
		case "PLESKGATE_PROTOCOL":
			if v != "auto" {
				for _, p := range strings.Split(v, ",") {
					if !regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`).MatchString(strings.TrimSpace(p)) {
						bad(name, "want auto or versions like 1.6.9.1")
					}
				}
			}
		case "PLESKGATE_AUTH_MODE":
			if v != "passthrough" && v != "service" {
				bad(name, "want passthrough or service")
			}
		case "PLESKGATE_UPSTREAM_TIMEOUT", "PLESKGATE_DESCRIPTOR_TTL":
			if d, err := time.ParseDuration(v); err != nil || d <= 0 {
				bad(name, "want a positive duration such as 30s")
			}
		case "PLESKGATE_UPSTREAM_INSECURE":
			if _, err := strconv.ParseBool(v); err != nil {
				bad(name, "want true or false")
			}
		case "PLESKGATE_REDIS_URL":
			if u, err := url.Parse(v); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
				bad(name, "want redis://host:port/db")
			}
		case "PLESKGATE_LOG_LEVEL":
			if !slices.Contains([]string{"debug", "info", "warn", "error"}, v) {
				bad(name, "want debug, info, warn or error")
			}
		case "PLESKGATE_API_KEYS_FILE", "PLESKGATE_UPSTREAM_CA_FILE":
			if !strings.HasPrefix(v, "/") {
				bad(name, "want an absolute path")
			}
		}
	}
	return errs
}

// composeDefault resolves Compose's ${VAR:-default} and ${VAR-default} to the
// default, which is what a checkout without an .env file runs with.
func composeDefault(v string) string {
	return regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}`).ReplaceAllString(v, "$1")
}

package validate

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// binarySettings are the PLESKGATE_* variables cmd/pleskgate reads: the
// names of the settings table in its config.go ({"kebab-name", "default",
// …} rows), which are what a deployment file may set besides otelEnv.
var binarySettings = sync.OnceValues(func() (map[string]bool, error) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "cmd", "pleskgate", "config.go"))
	if err != nil {
		return nil, err
	}
	read := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*\{"([a-z][a-z0-9-]*)",\s*"`).FindAllStringSubmatch(string(src), -1) {
		read["PLESKGATE_"+strings.ToUpper(strings.ReplaceAll(m[1], "-", "_"))] = true
	}
	if len(read) == 0 {
		return nil, errors.New("no settings table found in cmd/pleskgate/config.go")
	}
	return read, nil
})

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

// TestBinaryReadsEnv checks that cmd/pleskgate reads every variable of
// DESIGN.md §6 (designEnv): a deployment file may set only what the binary
// reads (checkSettings), so one it ignored would be refused there.
func TestBinaryReadsEnv(t *testing.T) {
	read, err := binarySettings()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range designEnv {
		if !read[name] {
			t.Errorf("DESIGN.md §6 names %s but cmd/pleskgate does not read it", name)
		}
	}
}

// A deployment file may set what cmd/pleskgate reads, settings beyond §6
// included, and the OTel variables; nothing else.
func TestCheckSettingsAllowsWhatTheBinaryReads(t *testing.T) {
	if errs := checkSettings(map[string]string{"PLESKGATE_RETRY_MAX": "2", "PLESKGATE_LISTEN": ":8080", "OTEL_SERVICE_NAME": "gw"}); len(errs) != 0 {
		t.Errorf("settings the binary reads refused: %v", errs)
	}
	if errs := checkSettings(map[string]string{"PLESKGATE_RETRIES": "2"}); len(errs) != 1 {
		t.Errorf("a variable the binary does not read: %v, want one error", errs)
	}
}

// checkSettings validates the values of PLESKGATE_* settings the way
// cmd/pleskgate would, so a manifest cannot ship a value the gateway refuses.
// Values that come from Secrets are passed as "" and not checked.
func checkSettings(env map[string]string) []error {
	read, err := binarySettings()
	if err != nil {
		return []error{err}
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s=%q: %s", name, env[name], fmt.Sprintf(format, args...)))
	}
	for name, v := range env {
		if !read[name] && !otelEnv[name] { // otelEnv: read by internal/telemetry and the OTLP exporter
			errs = append(errs, fmt.Errorf("%s is not a setting cmd/pleskgate reads", name))
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

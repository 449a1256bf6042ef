package validate

import (
	"bytes"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeService is the subset of the Compose specification that
// deploy/docker-compose.yml uses. Decoding is strict, so a misspelt key (or a
// new one) fails here: add the field when the file needs it.
type composeService struct {
	Image       string            `yaml:"image"`
	Build       *composeBuild     `yaml:"build"`
	Entrypoint  []string          `yaml:"entrypoint"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   yaml.Node         `yaml:"depends_on"` // a list or a map of conditions
	Healthcheck *struct {
		Test     []string `yaml:"test"`
		Interval string   `yaml:"interval"`
		Timeout  string   `yaml:"timeout"`
		Retries  int      `yaml:"retries"`
	} `yaml:"healthcheck"`
	Restart     string   `yaml:"restart"`
	ReadOnly    bool     `yaml:"read_only"`
	CapDrop     []string `yaml:"cap_drop"`
	SecurityOpt []string `yaml:"security_opt"`
	Profiles    []string `yaml:"profiles"` // only started with --profile
}

type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

type composeFile struct {
	Name       string                    `yaml:"name"`
	Services   map[string]composeService `yaml:"services"`
	Extensions map[string]any            `yaml:",inline"` // x-… anchors
}

// dependsOn returns the services s waits for and the condition of each.
func (s composeService) dependsOn(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	switch s.DependsOn.Kind {
	case 0:
	case yaml.SequenceNode:
		var names []string
		if err := s.DependsOn.Decode(&names); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			out[n] = "service_started"
		}
	case yaml.MappingNode:
		var m map[string]struct {
			Condition string `yaml:"condition"`
		}
		if err := s.DependsOn.Decode(&m); err != nil {
			t.Fatal(err)
		}
		for n, c := range m {
			out[n] = c.Condition
		}
	default:
		t.Fatal("depends_on is neither a list nor a map")
	}
	return out
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for k := range cf.Extensions {
		if !strings.HasPrefix(k, "x-") {
			t.Errorf("docker-compose.yml: unknown top-level key %q", k)
		}
	}
	return cf
}

// flagNames lists the flags a Go command defines with the flag package.
func flagNames(t *testing.T, mainGo string) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot, mainGo))
	if err != nil {
		t.Skipf("%s: %v", mainGo, err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`fs\.\w+\((?:&[\w.]+,\s*)?"([a-z][a-z0-9-]*)"`).FindAllStringSubmatch(string(src), -1) {
		names = append(names, m[1])
	}
	return names
}

func TestCompose(t *testing.T) {
	cf := loadCompose(t)
	for _, name := range []string{"gateway", "plesksim", "redis", "prometheus"} {
		if _, ok := cf.Services[name]; !ok {
			t.Errorf("docker-compose.yml has no service %s", name)
		}
	}
	for name, s := range cf.Services {
		for dep := range s.dependsOn(t) {
			if _, ok := cf.Services[dep]; !ok {
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			}
		}
	}
	gw, sim := cf.Services["gateway"], cf.Services["plesksim"]

	// Both run the image built from the repository's Dockerfile.
	for name, s := range map[string]composeService{"gateway": gw, "plesksim": sim} {
		if s.Build == nil {
			t.Errorf("%s is not built from the Dockerfile", name)
			continue
		}
		df := s.Build.Dockerfile
		if df == "" {
			df = "Dockerfile"
		}
		ctx := filepath.Join(repoRoot, "deploy", s.Build.Context)
		if _, err := os.Stat(filepath.Join(ctx, df)); err != nil {
			t.Errorf("%s: build context %s has no %s", name, s.Build.Context, df)
		}
		if abs, _ := filepath.Abs(ctx); abs != mustAbs(t, repoRoot) {
			t.Errorf("%s: build context %s is not the repository root", name, s.Build.Context)
		}
	}
	if gw.Image != sim.Image {
		t.Errorf("gateway (%s) and plesksim (%s) should share one image", gw.Image, sim.Image)
	}

	// The gateway: passthrough, in front of plesksim, sharing state in redis.
	env := map[string]string{}
	for k, v := range gw.Environment {
		env[k] = composeDefault(v)
	}
	for _, err := range checkSettings(env) {
		t.Errorf("gateway: %v", err)
	}
	if env["PLESKGATE_AUTH_MODE"] != "passthrough" {
		t.Errorf("gateway: PLESKGATE_AUTH_MODE=%q, want passthrough", env["PLESKGATE_AUTH_MODE"])
	}
	up, err := url.Parse(env["PLESKGATE_UPSTREAM_URL"])
	if err != nil || up.Hostname() != "plesksim" {
		t.Fatalf("gateway: PLESKGATE_UPSTREAM_URL=%q, want http://plesksim:8880", env["PLESKGATE_UPSTREAM_URL"])
	}
	if _, ok := env["PLESKGATE_REDIS_URL"]; ok {
		// Required with Redis; taken from the caller's shell, never a
		// literal in the file.
		if v := gw.Environment["PLESKGATE_STATE_SECRET"]; !strings.HasPrefix(v, "${PLESKGATE_STATE_SECRET:?") {
			t.Errorf("gateway: PLESKGATE_STATE_SECRET=%q: want ${PLESKGATE_STATE_SECRET:?…} (required, from the environment)", v)
		}
	}
	if r, ok := env["PLESKGATE_REDIS_URL"]; ok {
		if u, err := url.Parse(r); err != nil || cf.Services[u.Hostname()].Image == "" {
			t.Errorf("gateway: PLESKGATE_REDIS_URL=%q names no service", r)
		} else if gw.dependsOn(t)[u.Hostname()] != "service_healthy" {
			t.Errorf("gateway should wait for %s to be healthy", u.Hostname())
		}
	}
	if !slices.ContainsFunc(gw.Ports, func(p string) bool { return strings.HasSuffix(p, ":8080") }) {
		t.Errorf("gateway does not publish 8080: %v", gw.Ports)
	}

	// plesksim: the standalone simulator, on the port the gateway calls, with
	// flags cmd/plesksim really has.
	if !slices.Equal(sim.Entrypoint, []string{"/plesksim"}) {
		t.Errorf("plesksim entrypoint %v, want [/plesksim]", sim.Entrypoint)
	}
	args := map[string]string{}
	for i := 0; i < len(sim.Command); i++ {
		a, ok := strings.CutPrefix(sim.Command[i], "--")
		if !ok {
			t.Fatalf("plesksim command: %q is not a flag", sim.Command[i])
		}
		switch name, v, ok := strings.Cut(a, "="); {
		case ok:
			args[name] = composeDefault(v)
		case i+1 == len(sim.Command) || strings.HasPrefix(sim.Command[i+1], "--"):
			args[name] = "true" // a boolean flag
		default:
			args[name] = composeDefault(sim.Command[i+1])
			i++
		}
	}
	if known := flagNames(t, "cmd/plesksim/main.go"); len(known) > 0 {
		for name := range args {
			if !slices.Contains(known, name) {
				t.Errorf("plesksim has no flag --%s (it has %v)", name, known)
			}
		}
	}
	if _, port, _ := net.SplitHostPort(args["listen"]); port != up.Port() {
		t.Errorf("plesksim listens on %q, the gateway calls port %s", args["listen"], up.Port())
	}
	for _, f := range []string{"protocol", "admin-login", "admin-password", "demo"} {
		if args[f] == "" {
			t.Errorf("plesksim lacks --%s", f)
		}
	}
	// --demo seeds the sandbox's data (README "The sandbox"): the reseller
	// "reseller" with the administrator's password plus "-r" and the
	// sandbox's addresses. --reseller or --ip would make compose's data
	// differ from what the README and Swagger's examples describe.
	for _, f := range []string{"reseller", "ip"} {
		if args[f] != "" {
			t.Errorf("plesksim --%s %q: --demo brings the sandbox's reseller and addresses", f, args[f])
		}
	}

	// Tracing is optional: a trace backend in the "tracing" profile, which
	// no default service depends on, and the gateway's endpoint empty by default.
	if j, ok := cf.Services["jaeger"]; !ok || !slices.Contains(j.Profiles, "tracing") {
		t.Errorf("want a jaeger service in the tracing profile")
	}
	for name, s := range cf.Services {
		for dep := range s.dependsOn(t) {
			if len(cf.Services[dep].Profiles) > 0 && len(s.Profiles) == 0 {
				t.Errorf("%s depends on %s, which only starts with --profile", name, dep)
			}
		}
	}
	if v, ok := gw.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"]; !ok || composeDefault(v) != "" {
		t.Errorf("gateway: OTEL_EXPORTER_OTLP_ENDPOINT=%q, want it present and empty by default (tracing off)", v)
	}

	for _, name := range []string{"redis", "prometheus"} {
		if hc := cf.Services[name].Healthcheck; hc == nil || len(hc.Test) == 0 {
			t.Errorf("%s has no healthcheck", name)
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestPrometheusScrapesGateway: the config compose mounts into Prometheus
// scrapes the gateway service on its port, at /metrics.
func TestPrometheusScrapesGateway(t *testing.T) {
	cf := loadCompose(t)
	var mounted string
	for _, v := range cf.Services["prometheus"].Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == "/etc/prometheus/prometheus.yml" {
			mounted = parts[0]
		}
	}
	if mounted == "" {
		t.Fatal("prometheus does not mount a config at /etc/prometheus/prometheus.yml")
	}
	if got, want := mustAbs(t, filepath.Join(repoRoot, "deploy", mounted)), mustAbs(t, filepath.Join(repoRoot, "deploy", "prometheus", "prometheus.yml")); got != want {
		t.Errorf("prometheus mounts %s, want deploy/prometheus/prometheus.yml", mounted)
	}
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Global        map[string]string `yaml:"global"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			MetricsPath   string `yaml:"metrics_path"`
			StaticConfigs []struct {
				Targets []string          `yaml:"targets"`
				Labels  map[string]string `yaml:"labels"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	found := false
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			if slices.Contains(st.Targets, "gateway:8080") {
				found = true
				if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
					t.Errorf("job %s scrapes %s, the gateway serves /metrics", sc.JobName, sc.MetricsPath)
				}
			}
		}
	}
	if !found {
		t.Error("prometheus.yml has no static target gateway:8080")
	}
	if _, ok := cf.Services["gateway"]; !ok {
		t.Error("the scrape target gateway is not a compose service")
	}
}

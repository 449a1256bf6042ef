package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/plesksim"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFlagsWinOverEnvironment(t *testing.T) {
	var out bytes.Buffer
	c, err := parseConfig([]string{"--listen", ":9999", "--descriptor-ttl", "5m"}, env(map[string]string{
		"PLESKGATE_LISTEN": ":7777", "PLESKGATE_PROTOCOL": "1.6.9.1", "PLESKGATE_UPSTREAM_TIMEOUT": "3s",
		"PLESKGATE_CORS_ORIGINS": "https://a.example, https://b.example",
	}), &out)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":9999" || c.Protocol != "1.6.9.1" || c.UpstreamTimeout != 3*time.Second || c.DescriptorTTL != 5*time.Minute {
		t.Fatalf("config %+v", c)
	}
	if len(c.CORSOrigins) != 2 || c.CORSOrigins[1] != "https://b.example" {
		t.Fatalf("cors %v", c.CORSOrigins)
	}
	// Defaults.
	c, err = parseConfig(nil, env(nil), &out)
	if err != nil || c.Listen != ":8080" || c.Protocol != "auto" || c.AuthMode != "passthrough" || c.UpstreamTimeout != 30*time.Second || c.DescriptorTTL != 10*time.Minute || c.LogLevel != "info" {
		t.Fatalf("defaults %+v %v", c, err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, map[string]string{"PLESKGATE_UPSTREAM_TIMEOUT": "soon"}, "PLESKGATE_UPSTREAM_TIMEOUT"},
		{nil, map[string]string{"PLESKGATE_AUTH_MODE": "magic"}, "PLESKGATE_AUTH_MODE"},
		{nil, map[string]string{"PLESKGATE_AUTH_MODE": "service"}, "PLESKGATE_API_KEYS_FILE"},
		{[]string{"--log-level", "loud"}, nil, "PLESKGATE_LOG_LEVEL"},
		{[]string{"--upstream-insecure", "perhaps"}, nil, "PLESKGATE_UPSTREAM_INSECURE"},
		{[]string{"stray"}, nil, "unexpected argument"},
		{nil, map[string]string{"PLESKGATE_REDIS_URL": "redis://redis:6379/0"}, "PLESKGATE_STATE_SECRET"},
		{nil, map[string]string{"PLESKGATE_STATE_SECRET": "short"}, "PLESKGATE_STATE_SECRET"},
	} {
		_, err := parseConfig(c.args, env(c.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: error %v, want one naming %s", c.args, c.env, err, c.want)
		}
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var out bytes.Buffer
	_, err := parseConfig([]string{"--help"}, env(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err %v", err)
	}
	for _, s := range settings {
		if !strings.Contains(out.String(), envName(s.name)) || !strings.Contains(out.String(), "-"+s.name) {
			t.Errorf("--help does not mention %s / --%s", envName(s.name), s.name)
		}
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// The sandbox starts with no configuration, prints its credentials, serves,
// and drains an in-flight request when told to stop.
func TestSandboxServesAndShutsDownGracefully(t *testing.T) {
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, env(map[string]string{"PLESKGATE_LISTEN": addr, "PLESKGATE_SANDBOX_PASSWORD": "sandbox-pw", "PLESKGATE_LOG_LEVEL": "error"}), &out)
	}()
	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sandbox did not start: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "SANDBOX") || !strings.Contains(out.String(), "sandbox-pw") {
		t.Fatalf("banner: %s", out.String())
	}
	// The banner names the demo clients with their ids and owners.
	// The banner names the demo clients with their ids and owners, their
	// password, and the clients kept for Swagger UI's destructive examples.
	for _, want := range []string{"owner admin:    3 jdoe, 4 asmith, 5 bmuller", "owner reseller: 6 rclient1, 7 rclient2",
		"demo clients   password: " + plesksim.DemoClientPassword, "8 deleteme (DELETE /clients/{id})", "10 convertme (POST /clients/{id}/convert-to-reseller)"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("banner lacks %q:\n%s", want, out.String())
		}
	}
	get := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.SetBasicAuth("admin", "sandbox-pw")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/clients"); code != 200 || !strings.Contains(body, `"login"`) {
		t.Fatalf("GET /clients: %d %s", code, body)
	}
	for _, want := range []string{"Unlimited", "Reseller Basic Hosting", "Reseller Pro", "password policy: " + string(plesksim.DefaultPasswordPolicy)} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q: %s", want, out.String())
		}
	}
	// The sandbox applies the password policy: a weak password is the
	// spec's 422, and the detail says what the policy wants.
	req, _ := http.NewRequest("POST", base+"/clients", strings.NewReader(`{"name":"Weak One","login":"weakone","password":"123"}`))
	req.SetBasicAuth("admin", "sandbox-pw")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var prob struct{ Detail string }
	_ = json.Unmarshal(b, &prob)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(prob.Detail, plesksim.DefaultPasswordPolicy.Rule()) {
		t.Fatalf("weak password: %d %s", resp.StatusCode, b)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown did not finish")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}

// A request in flight when SIGTERM arrives is drained, not cut: the upstream
// takes 400ms, the stop comes after 100ms, the request still gets its 200.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	sim, err := plesksim.New(plesksim.Config{AdminPassword: "pw-admin-1"})
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(sim)
	defer up.Close()
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, env(map[string]string{"PLESKGATE_LISTEN": addr, "PLESKGATE_UPSTREAM_URL": up.URL, "PLESKGATE_LOG_LEVEL": "error"}), io.Discard)
	}()
	base := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 200 {
			t.Fatal("gateway did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	sim.SetFaults(plesksim.Faults{Latency: 400 * time.Millisecond})
	status := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", base+"/clients", nil)
		req.SetBasicAuth("admin", "pw-admin-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if code := <-status; code != http.StatusOK {
		t.Fatalf("the in-flight request got %d during shutdown, want 200", code)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestVersionFlagPrintsBuild(t *testing.T) {
	var out bytes.Buffer
	_, err := parseConfig([]string{"--version"}, env(nil), &out)
	if !errors.Is(err, errVersionShown) {
		t.Fatalf("err %v", err)
	}
	if got := out.String(); !strings.HasPrefix(got, "pleskgate ") || !strings.Contains(got, "commit ") || !strings.Contains(got, runtime.Version()) {
		t.Fatalf("--version printed %q", got)
	}
}

// buildBinary builds ./cmd/pleskgate as make build does, with the version
// and commit stamped.
func buildBinary(t *testing.T, version, commit string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pleskgate")
	pkg := "github.com/pleskgate/pleskgate/internal/buildinfo"
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-X "+pkg+".version="+version+" -X "+pkg+".commit="+commit, "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// The built binary prints the stamped version, and in sandbox mode exits
// with status 0 after draining on SIGINT and on SIGTERM (Ctrl-C and
// docker stop are not failures).
func TestBinaryVersionAndExitStatusOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t, "v9.8.7-test", "c0ffee1")
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("--version: %v", err)
	}
	if want := "pleskgate v9.8.7-test (commit c0ffee1, " + runtime.Version() + ")\n"; string(out) != want {
		t.Fatalf("--version printed %q, want %q", out, want)
	}
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		addr := freePort(t)
		cmd := exec.Command(bin, "--listen", addr, "--log-level", "error", "--sandbox-password", "pw-sig-1")
		var stdout syncBuffer
		cmd.Stdout, cmd.Stderr = &stdout, &stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
				resp.Body.Close()
				break
			}
			if i > 400 {
				_ = cmd.Process.Kill()
				t.Fatalf("the binary did not start:\n%s", stdout.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("after %v: %v (want exit status 0)\n%s", sig, err, stdout.String())
		}
	}
}

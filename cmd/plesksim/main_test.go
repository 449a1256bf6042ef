package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/plesksim"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"--listen", "127.0.0.1:9", "--protocol", "1.6.0.2", "--admin-login", "root",
		"--admin-password", "pw", "--reseller", "r1:p1", "--reseller", "r2:p:2", "--ip", "10.0.0.1", "--ip", "10.0.0.2",
		"--key", "k1", "--demo", "--latency", "20ms", "--fault", "reset", "--fault-rate", "0.25", "--workers", "4"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if o.listen != "127.0.0.1:9" || c.Protocol != "1.6.0.2" || c.AdminLogin != "root" || c.AdminPassword != "pw" ||
		len(c.Resellers) != 3 || c.Resellers[0] != (plesksim.Account{Login: plesksim.DemoResellerLogin, Password: "pw" + plesksim.DemoResellerSuffix}) ||
		c.Resellers[2] != (plesksim.Account{Login: "r2", Password: "p:2"}) ||
		len(c.IPs) != 2 || c.Keys[0] != "k1" || !c.DemoClients || c.Faults.Latency != 20*time.Millisecond ||
		c.Faults.Kind != plesksim.FaultReset || c.Faults.Rate != 0.25 || c.Workers != 4 {
		t.Fatalf("parsed %+v", o)
	}
	d, err := parseFlags(nil, io.Discard)
	if err != nil || d.listen != ":8880" || d.cfg.Protocol != "1.6.9.1" || d.cfg.AdminLogin != "admin" {
		t.Fatalf("defaults %+v %v", d, err)
	}
	for _, bad := range [][]string{{"--reseller", "nopass"}, {"--tls-cert", "x"}, {"extra"}, {"--nope"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if err := run(context.Background(), []string{"--fault", "boom", "--listen", "127.0.0.1:0"}, io.Discard, nil); err == nil {
		t.Error("unknown fault kind accepted")
	}
}

// --help states the oldest protocol version the simulator accepts, as the
// --protocol flag and the README do (it said 1.4.0.0; the simulator starts
// at 1.0.0.0).
func TestHelpNamesTheOldestVersion(t *testing.T) {
	var help bytes.Buffer
	if _, err := parseFlags([]string{"--help"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	sim, err := plesksim.New(plesksim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	oldest := sim.Versions()[0]
	text := strings.Join(strings.Fields(help.String()), " ")
	if !strings.Contains(text, "every protocol version from "+oldest+" up to --protocol") ||
		!strings.Contains(text, "from "+oldest+" up to it is accepted") {
		t.Fatalf("--help does not say the versions start at %s:\n%s", oldest, help.String())
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestRunServesAndLogsWithoutSecrets(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuf
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--admin-password", "s3cret-pw", "--key", "k3y-value"}, &logs, func(a net.Addr) { addrc <- a })
	}()
	addr := <-addrc
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr.String()+plesksim.AgentPath,
		strings.NewReader(`<packet><server><get_protos/></server></packet>`))
	req.Header.Set("HTTP_AUTH_LOGIN", "admin")
	req.Header.Set("HTTP_AUTH_PASSWD", "s3cret-pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "<proto>1.6.9.1</proto>") {
		t.Fatalf("answer %s", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	out := logs.String()
	if !strings.Contains(out, "POST "+plesksim.AgentPath+" status=200") {
		t.Fatalf("no access log line:\n%s", out)
	}
	if strings.Contains(out, "s3cret-pw") || strings.Contains(out, "k3y-value") {
		t.Fatalf("secret in log:\n%s", out)
	}
}

func TestVersionFlag(t *testing.T) {
	if _, err := parseFlags([]string{"--version"}, io.Discard); !errors.Is(err, errVersionShown) {
		t.Fatalf("--version: %v", err)
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "plesksim")
	pkg := "github.com/pleskgate/pleskgate/internal/buildinfo"
	if out, err := exec.Command("go", "build", "-trimpath", "-ldflags", "-X "+pkg+".version=v1.2.3-test -X "+pkg+".commit=abc1234", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "plesksim v1.2.3-test (commit abc1234, " + runtime.Version() + ")\n"; string(out) != want {
		t.Fatalf("--version printed %q, want %q", out, want)
	}
}

// --help starts with what plesksim is, then the flags.
func TestHelpStartsWithADescription(t *testing.T) {
	var out bytes.Buffer
	if _, err := parseFlags([]string{"--help"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	s := out.String()
	if !strings.HasPrefix(s, "plesksim: a simulator of Plesk's XML API") || strings.Contains(s, "Usage of plesksim") {
		t.Fatalf("--help starts %q", s[:min(len(s), 120)])
	}
	if i, j := strings.Index(s, "agent.php"), strings.Index(s, "-admin-login"); i < 0 || j < i {
		t.Fatalf("description then flags expected:\n%s", s)
	}
}

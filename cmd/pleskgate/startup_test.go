package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pleskgate/pleskgate/gateway"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

// An unreachable panel is named by one warning at start (it was found only
// per request); a panel that answers, even with an error for the missing
// credentials, gets none. The gateway is not stopped either way.
func TestStartWarnsOnceWhenUpstreamDoesNotAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now

	sim, err := plesksim.New(plesksim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	panel := httptest.NewServer(sim)
	defer panel.Close()

	for _, tc := range []struct {
		name, url string
		warnings  int
	}{{"unreachable", closed, 1}, {"answering", panel.URL, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zap.WarnLevel)
			srv, err := gateway.New(gateway.Config{Logger: zap.NewNop(), Upstream: upstream.Config{BaseURL: tc.url, Timeout: 2 * time.Second, RetryMax: -1}})
			if err != nil {
				t.Fatal(err)
			}
			checkUpstream(context.Background(), srv, gateway.RedactURL(tc.url), 5*time.Second, zap.New(core))
			var warned []string
			for _, e := range logs.All() {
				if strings.Contains(e.Message, "get_protos") {
					warned = append(warned, e.Message)
				}
			}
			if len(warned) != tc.warnings {
				t.Fatalf("%d start-up warnings, want %d: %v", len(warned), tc.warnings, warned)
			}
		})
	}
}

// captureStderr sends what the gateway logs (zap writes to os.Stderr) to a
// file until the test ends, and returns a function that reads it.
func captureStderr(t *testing.T) func() string {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = f
	t.Cleanup(func() { os.Stderr = saved; f.Close() })
	return func() string {
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// startRun runs the gateway with these settings on a free port until the
// test cancels it, and returns its address once /healthz answers.
func startRun(t *testing.T, settings map[string]string) (addr string, cancel func(), done <-chan error) {
	addr = freePort(t)
	settings["PLESKGATE_LISTEN"] = addr
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, nil, env(settings), io.Discard) }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("/healthz: %d", resp.StatusCode)
			}
			return addr, cancel, errc
		}
		select {
		case runErr := <-errc:
			t.Fatalf("run returned: %v", runErr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway did not start: %v", err)
		}
	}
}

// stopRun cancels run and waits for it to return.
func stopRun(t *testing.T, cancel func(), done <-chan error) {
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context was cancelled")
	}
}

// The start-up check runs beside the server and ends with run: a panel
// that takes the connection and never answers does not hold /healthz, and
// does not hold run past its cancellation (the check's own timeout is a
// minute), and a check cut short by the stop logs no warning.
func TestStartupCheckEndsWithRun(t *testing.T) {
	logged := captureStderr(t)
	panel, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer panel.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := panel.Accept()
			if err != nil {
				return
			}
			accepted <- c // held: read nothing, answer nothing
		}
	}()
	t.Cleanup(func() {
		for len(accepted) > 0 {
			(<-accepted).Close()
		}
	})

	_, cancel, done := startRun(t, map[string]string{
		"PLESKGATE_UPSTREAM_URL": "http://" + panel.Addr().String(), "PLESKGATE_UPSTREAM_TIMEOUT": "1m",
		"PLESKGATE_RETRY_MAX": "0", "PLESKGATE_LOG_LEVEL": "warn",
	})
	select {
	case c := <-accepted:
		accepted <- c
	case <-time.After(10 * time.Second):
		t.Fatal("no start-up check reached the panel")
	}
	stopRun(t, cancel, done)
	if out := logged(); strings.Contains(out, "get_protos") {
		t.Fatalf("a warning after the stop:\n%s", out)
	}
}

// The sandbox's panel is the gateway's own simulator: there is nothing to
// check at start.
func TestSandboxSendsNoStartupCheck(t *testing.T) {
	logged := captureStderr(t)
	_, cancel, done := startRun(t, map[string]string{"PLESKGATE_LOG_LEVEL": "debug", "PLESKGATE_SANDBOX_PASSWORD": "sandbox-pw"})
	stopRun(t, cancel, done)
	out := logged()
	if !strings.Contains(out, "sandbox simulator started") {
		t.Fatalf("the log was not captured:\n%s", out)
	}
	if strings.Contains(out, "start-up check") {
		t.Fatalf("the sandbox checked its upstream at start:\n%s", out)
	}
}

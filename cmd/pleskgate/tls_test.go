package main

import (
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pleskgate/pleskgate/plesksim"
)

// TLS trust for the panel (DESIGN.md §4): verification on by default, a CA
// file to trust a private CA, an explicit insecure switch that warns.

// tlsPanel is a plesksim behind TLS with httptest's self-signed certificate,
// and that certificate as a PEM file.
func tlsPanel(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	sim, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: "tls-admin-pw"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(sim)
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "panel-ca.pem")
	block := &pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}
	if err := os.WriteFile(caFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, caFile
}

// post sends a get_protos packet through tr and returns the status or the error.
func tlsPost(t *testing.T, tr *http.Transport, url string) (int, error) {
	t.Helper()
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("POST", url+plesksim.AgentPath, strings.NewReader(`<packet><server><get_protos/></server></packet>`))
	req.Header.Set("HTTP_AUTH_LOGIN", "admin")
	req.Header.Set("HTTP_AUTH_PASSWD", "tls-admin-pw")
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func TestUpstreamTransportVerifiesTLSByDefault(t *testing.T) {
	srv, _ := tlsPanel(t)
	tr, err := upstreamTransport(config{}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlsPost(t, tr, srv.URL); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a self-signed panel was accepted without a CA file: %v", err)
	}
}

func TestUpstreamTransportTrustsTheCAFile(t *testing.T) {
	srv, caFile := tlsPanel(t)
	core, logs := observer.New(zap.DebugLevel)
	tr, err := upstreamTransport(config{UpstreamCAFile: caFile}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	if code, err := tlsPost(t, tr, srv.URL); err != nil || code != http.StatusOK {
		t.Fatalf("with PLESKGATE_UPSTREAM_CA_FILE: %d %v", code, err)
	}
	if tr.TLSClientConfig.InsecureSkipVerify {
		t.Fatal("a CA file turned verification off")
	}
	if logs.Len() != 0 {
		t.Fatalf("unexpected log lines: %v", logs.All())
	}
}

func TestUpstreamTransportCAFileErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(dir, "missing.pem"), junk} {
		if _, err := upstreamTransport(config{UpstreamCAFile: f}, zap.NewNop()); err == nil || !strings.Contains(err.Error(), "PLESKGATE_UPSTREAM_CA_FILE") {
			t.Fatalf("%s: error %v", f, err)
		}
	}
}

func TestUpstreamTransportInsecureWarns(t *testing.T) {
	srv, _ := tlsPanel(t)
	core, logs := observer.New(zap.DebugLevel)
	tr, err := upstreamTransport(config{UpstreamInsecure: true}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	if code, err := tlsPost(t, tr, srv.URL); err != nil || code != http.StatusOK {
		t.Fatalf("insecure: %d %v", code, err)
	}
	if logs.FilterLevelExact(zap.WarnLevel).Len() == 0 {
		t.Fatal("PLESKGATE_UPSTREAM_INSECURE did not log a warning")
	}
}

// The whole binary: PLESKGATE_UPSTREAM_URL to a TLS panel, with and without
// PLESKGATE_UPSTREAM_CA_FILE.
func TestRunAgainstTLSPanel(t *testing.T) {
	srv, caFile := tlsPanel(t)
	for _, c := range []struct {
		name string
		ca   string
		want int
	}{
		{"no CA file", "", http.StatusServiceUnavailable},
		{"CA file", caFile, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := freePort(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out syncBuffer
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, nil, env(map[string]string{
					"PLESKGATE_LISTEN": addr, "PLESKGATE_UPSTREAM_URL": srv.URL, "PLESKGATE_UPSTREAM_CA_FILE": c.ca,
					"PLESKGATE_LOG_LEVEL": "error", "PLESKGATE_UPSTREAM_TIMEOUT": "3s",
				}), &out)
			}()
			deadline := time.Now().Add(10 * time.Second)
			var code int
			for {
				req, _ := http.NewRequest("GET", "http://"+addr+"/clients", nil)
				req.SetBasicAuth("admin", "tls-admin-pw")
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					code = resp.StatusCode
					resp.Body.Close()
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("gateway did not start: %v\n%s", err, out.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			if code != c.want {
				t.Fatalf("GET /clients: %d, want %d", code, c.want)
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
		})
	}
}

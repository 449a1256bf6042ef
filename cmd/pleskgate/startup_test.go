package main

import (
	"context"
	"net"
	"net/http/httptest"
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
			checkUpstream(context.Background(), srv.Upstream(), upstream.Credentials{}, gateway.RedactURL(tc.url), 5*time.Second, zap.New(core))
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

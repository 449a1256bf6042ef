package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pleskgate/pleskgate/gateway"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
	"github.com/pleskgate/pleskgate/translator"
)

const (
	adminLogin    = "admin"
	adminPassword = "bench-Secret-1"
)

// served is one HTTP server on a loopback port.
type served struct {
	url      string
	hs       *http.Server
	requests atomic.Int64 // requests received, counted in this process
}

// serve starts h on 127.0.0.1 with the http.Server settings cmd/pleskgate
// uses. Its goroutines, and those they start (the gateway's upstream
// transport included), carry the pprof label server=name, so that a CPU
// profile of the shared process splits by server: go tool pprof
// -tagfocus=server=gateway.
func serve(name string, h http.Handler) (*served, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &served{url: "http://" + ln.Addr().String()}
	s.hs = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.requests.Add(1)
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	go pprof.Do(context.Background(), pprof.Labels("server", name), func(context.Context) { _ = s.hs.Serve(ln) })
	return s, nil
}

func (s *served) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.hs.Shutdown(ctx)
}

// upstreamTransport is cmd/pleskgate's: the default transport with a larger
// idle pool. The reverse proxy gets the same, so the two differ only in
// what they do with a request.
func upstreamTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	return t
}

// benchLogger is production-like (JSON, info level, zap's production
// sampling of 100 then every 100th per second) but writes to io.Discard: the
// access log's encoding cost is measured, a terminal's is not.
func benchLogger(mode string) *zap.Logger {
	if mode == "none" {
		return zap.NewNop()
	}
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zap.InfoLevel)
	return zap.New(zapcore.NewSamplerWithOptions(core, time.Second, 100, 100))
}

// newGateway serves a gateway in front of upstreamURL. protocol "" is auto.
func newGateway(name, upstreamURL, protocol, logMode string) (*served, error) {
	var p *gateway.Protocol
	if protocol != "" {
		var err error
		if p, err = gateway.ParseProtocolSetting(protocol); err != nil {
			return nil, err
		}
	}
	srv, err := gateway.New(gateway.Config{
		Upstream: upstream.Config{
			BaseURL: upstreamURL, Timeout: 30 * time.Second,
			Transport: upstreamTransport(),
		},
		Protocol:      p,
		Logger:        benchLogger(logMode),
		DescriptorTTL: 10 * time.Minute,
	})
	if err != nil {
		return nil, err
	}
	return serve(name, srv.Handler())
}

// newProxy serves a plain httputil.ReverseProxy to target: the floor for any
// gateway that must make one upstream round trip per call.
func newProxy(target string) (*served, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		Transport: upstreamTransport(),
	}
	return serve("proxy", rp)
}

// newStatic serves body as JSON at path with Echo: the floor for a cache hit.
func newStatic(path string, body []byte) (*served, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET(path, func(c echo.Context) error { return c.JSONBlob(http.StatusOK, body) })
	return serve("static", e)
}

// newBare serves body as JSON at path with a bare net/http handler: the
// floor a cache hit is judged against.
func newBare(path string, body []byte) (*served, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	return serve("bare", mux)
}

func newSim(name, protocol string, demo bool) (*plesksim.Server, *served, error) {
	sim, err := plesksim.New(plesksim.Config{Protocol: protocol, AdminLogin: adminLogin, AdminPassword: adminPassword, DemoClients: demo})
	if err != nil {
		return nil, nil, err
	}
	s, err := serve(name, sim)
	return sim, s, err
}

// simPacket runs one packet through sim in process (no HTTP) and returns the answer.
func simPacket(sim *plesksim.Server, packet []byte) ([]byte, error) {
	r, err := http.NewRequest(http.MethodPost, plesksim.AgentPath, strings.NewReader(string(packet)))
	if err != nil {
		return nil, err
	}
	r.Header.Set("HTTP_AUTH_LOGIN", adminLogin)
	r.Header.Set("HTTP_AUTH_PASSWD", adminPassword)
	w := &bufferWriter{h: http.Header{}}
	sim.ServeHTTP(w, r)
	if w.code != 0 && w.code != http.StatusOK {
		return nil, fmt.Errorf("simulator answered HTTP %d", w.code)
	}
	return w.buf, nil
}

type bufferWriter struct {
	h    http.Header
	code int
	buf  []byte
}

func (w *bufferWriter) Header() http.Header         { return w.h }
func (w *bufferWriter) WriteHeader(code int)        { w.code = code }
func (w *bufferWriter) Write(p []byte) (int, error) { w.buf = append(w.buf, p...); return len(p), nil }

// seed adds clients to sim until it holds n, 100 per packet.
func seed(sim *plesksim.Server, n int) error {
	v := newestVersion(sim)
	have := len(sim.Clients())
	for have < n {
		var reqs []translator.Request
		for ; len(reqs) < 100 && have < n; have++ {
			reqs = append(reqs, &translator.AddRequest{Client: translator.NewClient{
				Name: fmt.Sprintf("Bench Client %d", have), Login: fmt.Sprintf("bench%06d", have), Password: "bench-Pass1",
				Company: ptr("Bench & Sons Ltd."), Email: ptr(fmt.Sprintf("bench%06d@example.com", have)),
				City: ptr("Springfield"), Country: ptr("US"),
			}})
		}
		pkt, err := translator.EncodeRequest(v, reqs...)
		if err != nil {
			return err
		}
		out, err := simPacket(sim, pkt)
		if err != nil {
			return err
		}
		if strings.Contains(string(out), "<status>error</status>") {
			return fmt.Errorf("seeding failed: %.300s", out)
		}
	}
	return nil
}

func newestVersion(sim *plesksim.Server) translator.Version {
	vs := sim.Versions()
	return translator.MustParseVersion(vs[len(vs)-1])
}

func ptr[T any](v T) *T { return &v }

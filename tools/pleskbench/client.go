package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The load generator runs in a child process (pleskbench -client …) so that
// the server process's CPU and RSS figures hold only the servers' work.
//
// It is a small closed-loop harness rather than vegeta: a fixed number of
// workers each keep one keep-alive connection busy for a fixed duration,
// which measures the most a server sustains at that concurrency, records
// every latency exactly (no histogram buckets) and adds no dependency. Its
// known bias is the closed loop's: under saturation, latency is queueing
// (concurrency / throughput); the goals judged here are CPU per request,
// which it does not bias.
//
// Protocol with the parent, on stdout: "start" when the measured window
// opens, "end" when it closes, then one JSON line of clientResult.

// stringList is a repeatable flag (-header "Name: value", -url, -env).
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type clientConfig struct {
	urls, bodies     stringList // worker w uses urls[w%len] and bodies[w%len]
	method           string
	headers          stringList
	expect           int
	concurrency      int
	warmup, duration time.Duration
	maxRequests      int64
	raw              bool
}

// clientResult is what the child reports. Durations are nanoseconds.
type clientResult struct {
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`
	P50        int64   `json:"p50_ns"`
	P90        int64   `json:"p90_ns"`
	P99        int64   `json:"p99_ns"`
	Max        int64   `json:"max_ns"`
	ClientCPU  float64 `json:"client_cpu_s"`
	Lat        []int64 `json:"lat,omitempty"` // every measured latency, sorted (-raw)
}

func runClient(args []string) error {
	fs := flag.NewFlagSet("pleskbench -client", flag.ContinueOnError)
	var c clientConfig
	fs.Bool("client", true, "run as the load generator")
	fs.Var(&c.urls, "url", "target URL (loopback; repeatable: worker w uses the w-th, round robin)")
	fs.StringVar(&c.method, "method", http.MethodGet, "HTTP method")
	fs.Var(&c.bodies, "body", "request body (repeatable like -url)")
	fs.Var(&c.headers, "header", `request header "Name: value" (repeatable)`)
	fs.IntVar(&c.expect, "expect", http.StatusOK, "expected status; others count as errors")
	fs.IntVar(&c.concurrency, "concurrency", 8, "workers, one keep-alive connection each")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured warm-up")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured window")
	fs.Int64Var(&c.maxRequests, "max", 5_000_000, "stop the measured window after this many requests")
	fs.BoolVar(&c.raw, "raw", false, "report every latency, not only percentiles")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(c.urls) == 0 {
		return fmt.Errorf("-url is required")
	}
	for _, raw := range c.urls {
		u, err := url.Parse(raw)
		if err != nil || !isLoopback(u.Hostname()) {
			return fmt.Errorf("-url %q: must be a loopback http URL", raw)
		}
	}
	hdr := http.Header{}
	for _, h := range c.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("-header %q: want Name: value", h)
		}
		hdr[strings.TrimSpace(k)] = []string{strings.TrimSpace(v)}
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	res, err := load(c, hdr, out)
	if err != nil {
		return err
	}
	res.ClientCPU = processCPU()
	b, _ := json.Marshal(res)
	fmt.Fprintf(out, "%s\n", b)
	return nil
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// load runs the closed loop and returns its figures.
func load(c clientConfig, hdr http.Header, out *bufio.Writer) (clientResult, error) {
	tr := &http.Transport{
		MaxIdleConns: c.concurrency, MaxIdleConnsPerHost: c.concurrency,
		DisableCompression: true, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	start := time.Now().Add(c.warmup)
	end := start.Add(c.duration)
	var (
		measured atomic.Int64
		errs     atomic.Int64
		firstErr atomic.Value
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	lats := make([][]int64, c.concurrency)
	for w := range c.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := make([]int64, 0, 1<<16)
			target := c.urls[w%len(c.urls)]
			var body []byte
			if len(c.bodies) > 0 {
				body = []byte(c.bodies[w%len(c.bodies)])
			}
			for !stop.Load() {
				var rd io.Reader
				if len(body) > 0 {
					rd = bytes.NewReader(body)
				}
				req, err := http.NewRequest(c.method, target, rd)
				if err != nil {
					firstErr.CompareAndSwap(nil, err.Error())
					errs.Add(1)
					return
				}
				req.Header = hdr // read-only for the transport
				t0 := time.Now()
				resp, err := client.Do(req)
				ok := err == nil
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					ok = err == nil && resp.StatusCode == c.expect
					if !ok && err == nil {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				t1 := time.Now()
				if t0.Before(start) || t1.After(end) {
					continue // warm-up, or straddling the window's end
				}
				if !ok {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				own = append(own, int64(t1.Sub(t0)))
				if measured.Add(1) >= c.maxRequests {
					stop.Store(true)
				}
			}
			lats[w] = own
		}()
	}
	time.Sleep(time.Until(start))
	fmt.Fprintln(out, "start")
	out.Flush()
	windowStart := time.Now()
	for time.Now().Before(end) && !stop.Load() {
		time.Sleep(min(10*time.Millisecond, time.Until(end)))
	}
	window := time.Since(windowStart)
	fmt.Fprintln(out, "end")
	out.Flush()
	stop.Store(true)
	wg.Wait()

	var all []int64
	for _, l := range lats {
		all = append(all, l...)
	}
	slices.Sort(all)
	res := clientResult{Requests: int64(len(all)), Errors: errs.Load(), Seconds: window.Seconds()}
	if s, ok := firstErr.Load().(string); ok {
		res.FirstError = s
	}
	if len(all) > 0 {
		q := func(p float64) int64 { return all[min(len(all)-1, int(p*float64(len(all))))] }
		res.P50, res.P90, res.P99, res.Max = q(0.50), q(0.90), q(0.99), all[len(all)-1]
	}
	if c.raw {
		res.Lat = all
	}
	return res, nil
}

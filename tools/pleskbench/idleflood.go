package main

import (
	"bufio"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// pleskbench -idleflood -gateway BIN: starts BIN (sandbox mode, loopback),
// opens -conns keep-alive connections that each send one GET /healthz and
// then stay idle (issue 26: 4,100 against PLESKGATE_MAX_CONNECTIONS 4096),
// and while they are held probes a fresh GET /healthz and an
// administrator's GET /clients every -every for -hold, each with
// -probe-timeout. It reports how many probes were answered and their
// latency; it asserts nothing.
func runIdleFlood(args []string) error {
	fs := flag.NewFlagSet("pleskbench -idleflood", flag.ContinueOnError)
	fs.Bool("idleflood", true, "run the idle-connection flood")
	bin := fs.String("gateway", "bin/pleskgate", "pleskgate binary to start")
	conns := fs.Int("conns", 4100, "idle keep-alive connections to hold")
	hold := fs.Duration("hold", 10*time.Second, "how long to probe while they are held")
	every := fs.Duration("every", 500*time.Millisecond, "time between probes")
	timeout := fs.Duration("probe-timeout", 8*time.Second, "a probe not answered within this is counted as timed out")
	if err := fs.Parse(args); err != nil {
		return err
	}
	nofile := raiseOpenFiles()
	g, err := startFloodGateway(*bin)
	if err != nil {
		return err
	}
	defer g.stop()

	// Fill: 64 dialers; a connection whose /healthz is not answered in 2 s
	// (the gateway is at its limit and blocks) is still held, open.
	var answered, unanswered, failed atomic.Int64
	held := make(chan net.Conn, *conns)
	t0 := time.Now()
	var wg sync.WaitGroup
	next := make(chan struct{}, *conns)
	for range *conns {
		next <- struct{}{}
	}
	close(next)
	for range 64 {
		wg.Go(func() {
			for range next {
				c, err := net.Dial("tcp4", g.addr)
				if err != nil {
					failed.Add(1)
					continue
				}
				held <- c
				_ = c.SetDeadline(time.Now().Add(2 * time.Second))
				_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: flood\r\n\r\n")
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					unanswered.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				_ = c.SetDeadline(time.Time{})
				answered.Add(1)
			}
		})
	}
	wg.Wait()
	close(held)
	defer func() {
		for c := range held {
			c.Close()
		}
	}()
	fill := time.Since(t0)

	basic := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+floodPassword)) + "\r\n"
	var health, admin []time.Duration
	var healthMiss, adminMiss int
	for end := time.Now().Add(*hold); time.Now().Before(end); time.Sleep(*every) {
		if d, ok := probe(g.addr, "GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n", *timeout); ok {
			health = append(health, d)
		} else {
			healthMiss++
		}
		if d, ok := probe(g.addr, "GET /clients HTTP/1.1\r\nHost: probe\r\n"+basic+"Connection: close\r\n\r\n", *timeout); ok {
			admin = append(admin, d)
		} else {
			adminMiss++
		}
	}
	fmt.Printf("idle flood: %d keep-alive connections against %s (pid %d), open-files limit %d, filled in %.1fs\n", *conns, *bin, g.pid(), nofile, fill.Seconds())
	fmt.Printf("  held connections: %d answered their /healthz, %d not answered within 2 s, %d failed to connect\n", answered.Load(), unanswered.Load(), failed.Load())
	fmt.Printf("  GET /healthz probes:        %d answered 200, %d not within %s; %s\n", len(health), healthMiss, *timeout, latencies(health))
	fmt.Printf("  administrator's GET /clients: %d answered 200, %d not within %s; %s\n", len(admin), adminMiss, *timeout, latencies(admin))
	return nil
}

// probe sends one request on a fresh connection and reports how long the
// answer took, and whether it was a 200 within timeout.
func probe(addr, req string, timeout time.Duration) (time.Duration, bool) {
	t0 := time.Now()
	c, err := net.DialTimeout("tcp4", addr, timeout)
	if err != nil {
		return 0, false
	}
	defer c.Close()
	_ = c.SetDeadline(t0.Add(timeout))
	if _, err := io.WriteString(c, req); err != nil {
		return 0, false
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return time.Since(t0), err == nil && resp.StatusCode == http.StatusOK
}

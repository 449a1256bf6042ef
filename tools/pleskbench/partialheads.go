package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// pleskbench -partialheads -gateway BIN: starts BIN (sandbox mode,
// loopback), opens -conns connections that each send -header-bytes of a
// request head without its final CRLF and then wait (issue 26: 61 KB ×
// 4,000), and reports the gateway's peak RSS (the largest VmRSS sampled
// every 10 ms, and VmHWM), how many of those connections the gateway
// closed, and whether a GET /healthz on a fresh connection is answered
// meanwhile. It asserts nothing.
func runPartialHeads(args []string) error {
	fs := flag.NewFlagSet("pleskbench -partialheads", flag.ContinueOnError)
	fs.Bool("partialheads", true, "run the unfinished-head flood")
	bin := fs.String("gateway", "bin/pleskgate", "pleskgate binary to start")
	conns := fs.Int("conns", 4000, "connections, all at once")
	size := fs.Int("header-bytes", 61<<10, "bytes of head each connection sends, without the final CRLF")
	hold := fs.Duration("hold", 8*time.Second, "how long the connections stay open after sending (keep it under the gateway's 10 s header timeout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	nofile := raiseOpenFiles()
	g, err := startFloodGateway(*bin)
	if err != nil {
		return err
	}
	defer g.stop()
	pid := g.pid()
	idle := statusKB(pid, "VmRSS")

	peak := startRSSPeak(pid)
	head := "GET /healthz HTTP/1.1\r\nHost: flood\r\nX-Flood: "
	head += strings.Repeat("a", max(0, *size-len(head)))
	var closedEarly, failed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	t0 := time.Now()
	for range *conns {
		wg.Go(func() {
			c, err := net.Dial("tcp4", g.addr)
			if err != nil {
				failed.Add(1)
				return
			}
			defer c.Close()
			<-start
			_ = c.SetDeadline(time.Now().Add(*hold))
			if _, err := io.WriteString(c, head); err != nil {
				closedEarly.Add(1)
				return
			}
			// Until the hold ends: a read that ends before is the gateway closing.
			if _, err := c.Read(make([]byte, 1)); err != nil {
				if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
					closedEarly.Add(1)
				}
			}
		})
	}
	close(start)
	time.Sleep(*hold / 2)
	d, ok := probe(g.addr, "GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n", *hold/2)
	wg.Wait()
	peakKB := peak()
	fmt.Printf("unfinished heads: %d connections × %d bytes without the final CRLF against %s (pid %d), open-files limit %d, %.1fs\n", *conns, len(head), *bin, pid, nofile, time.Since(t0).Seconds())
	fmt.Printf("  RSS idle %.1f MiB, peak sampled %.1f MiB, VmHWM %.1f MiB\n", mib(idle), mib(peakKB), mib(statusKB(pid, "VmHWM")))
	fmt.Printf("  %d closed by the gateway before the hold ended, %d failed to connect\n", closedEarly.Load(), failed.Load())
	if ok {
		fmt.Printf("  GET /healthz during the flood: 200 in %s\n", d.Round(100*time.Microsecond))
	} else {
		fmt.Printf("  GET /healthz during the flood: not answered within %s\n", *hold/2)
	}
	return nil
}

package main

import (
	"flag"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// pleskbench -headerflood -gateway BIN: starts BIN (a pleskgate binary, in
// sandbox mode on a loopback port), opens -conns connections that each send
// a request head of -header-bytes (one huge header), all at once, and
// reports the gateway process's peak RSS (VmHWM, and the largest VmRSS
// sampled every 10 ms) — issue 13's header flood. Run it against a binary
// built from each commit to compare; it asserts nothing.
func runHeaderFlood(args []string) error {
	fs := flag.NewFlagSet("pleskbench -headerflood", flag.ContinueOnError)
	fs.Bool("headerflood", true, "run the header flood")
	bin := fs.String("gateway", "bin/pleskgate", "pleskgate binary to start")
	conns := fs.Int("conns", 400, "connections, all at once")
	size := fs.Int("header-bytes", 1<<20, "bytes of header each connection sends")
	hold := fs.Duration("hold", 2*time.Second, "how long the connections stay open after sending")
	if err := fs.Parse(args); err != nil {
		return err
	}
	g, err := startFloodGateway(*bin)
	if err != nil {
		return err
	}
	defer g.stop()
	pid, addr := g.pid(), g.addr
	idle := statusKB(pid, "VmRSS")
	peak := startRSSPeak(pid)
	chunk := []byte(strings.Repeat("a", 64<<10))
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[string]int{}
	start := make(chan struct{})
	for range *conns {
		wg.Go(func() {
			c, err := net.Dial("tcp4", addr)
			if err != nil {
				mu.Lock()
				statuses["dial error"]++
				mu.Unlock()
				return
			}
			defer c.Close()
			<-start
			_ = c.SetDeadline(time.Now().Add(60 * time.Second))
			got := make(chan string, 1)
			go func() {
				b := make([]byte, 64)
				n, _ := c.Read(b)
				line, _, _ := strings.Cut(string(b[:n]), "\r\n")
				if line == "" {
					line = "no answer"
				}
				got <- line
			}()
			_, err = fmt.Fprintf(c, "GET /clients HTTP/1.1\r\nHost: flood\r\nX-Flood: ")
			for sent := 0; err == nil && sent < *size; sent += len(chunk) {
				_, err = c.Write(chunk[:min(len(chunk), *size-sent)])
			}
			if err == nil {
				_, err = c.Write([]byte("\r\n\r\n"))
			}
			time.Sleep(*hold)
			c.Close()
			mu.Lock()
			statuses[<-got]++
			mu.Unlock()
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	peakKB := peak()
	fmt.Printf("header flood: %d connections × %d header bytes against %s (pid %d) in %.1fs\n", *conns, *size, *bin, pid, time.Since(t0).Seconds())
	fmt.Printf("  RSS idle %.1f MiB, peak sampled %.1f MiB, VmHWM %.1f MiB\n", mib(idle), mib(peakKB), mib(statusKB(pid, "VmHWM")))
	for k, v := range statuses {
		fmt.Printf("  %5d × %s\n", v, k)
	}
	return nil
}

package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
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
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(*bin)
	cmd.Env = append(os.Environ(), "PLESKGATE_LISTEN="+addr, "PLESKGATE_LOG_LEVEL=error", "PLESKGATE_SANDBOX_PASSWORD=flood-Pass1")
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid := cmd.Process.Pid
	for i := 0; ; i++ {
		c, err := net.Dial("tcp4", addr)
		if err == nil {
			c.Close()
			break
		}
		if i > 200 {
			return fmt.Errorf("the gateway did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	idle := statusKB(pid, "VmRSS")

	var peak int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if r := statusKB(pid, "VmRSS"); r > peak {
				peak = r
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
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
	close(stop)
	<-sampled
	fmt.Printf("header flood: %d connections × %d header bytes against %s (pid %d) in %.1fs\n", *conns, *size, *bin, pid, time.Since(t0).Seconds())
	fmt.Printf("  RSS idle %.1f MiB, peak sampled %.1f MiB, VmHWM %.1f MiB\n", mib(idle), mib(peak), mib(statusKB(pid, "VmHWM")))
	for k, v := range statuses {
		fmt.Printf("  %5d × %s\n", v, k)
	}
	return nil
}

func mib(kb int64) float64 { return float64(kb) / 1024 }

// statusKB reads a "Name: N kB" line of /proc/PID/status.
func statusKB(pid int, name string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

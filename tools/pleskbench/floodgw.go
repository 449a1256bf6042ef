package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"sort"
	"syscall"
	"time"
)

// The gateway binary the idle, header and unfinished-head floods start, and what
// they share: a raised open-files limit, and latency summaries.

// floodGateway is a pleskgate binary started in sandbox mode on a loopback
// port (as -headerflood starts it).
type floodGateway struct {
	addr string
	cmd  *exec.Cmd
}

const floodPassword = "flood-Pass1" // the sandbox administrator's

func startFloodGateway(bin string, env ...string) (*floodGateway, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), "PLESKGATE_LISTEN="+addr, "PLESKGATE_LOG_LEVEL=error", "PLESKGATE_SANDBOX_PASSWORD="+floodPassword), env...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	g := &floodGateway{addr: addr, cmd: cmd}
	for i := 0; ; i++ {
		c, err := net.Dial("tcp4", addr)
		if err == nil {
			c.Close()
			break
		}
		if i > 200 {
			g.stop()
			return nil, fmt.Errorf("the gateway did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	return g, nil
}

func (g *floodGateway) pid() int { return g.cmd.Process.Pid }

func (g *floodGateway) stop() { _ = g.cmd.Process.Kill(); _ = g.cmd.Wait() }

// raiseOpenFiles raises this process's open-files limit to its hard limit
// (the gateway, started after, inherits it) and reports the new soft one.
func raiseOpenFiles() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	rl.Cur = rl.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	return rl.Cur
}

// latencies summarises probe times: median and maximum of those answered.
func latencies(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none answered"
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return fmt.Sprintf("median %s, max %s", ds[len(ds)/2].Round(100*time.Microsecond), ds[len(ds)-1].Round(100*time.Microsecond))
}

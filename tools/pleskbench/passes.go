package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"
)

// round is one child run against a scenario, measured in this process
// between the child's "start" and "end" lines.
type round struct {
	res     clientResult
	served  int64   // requests the server received, counted here
	cpu     float64 // this process's CPU seconds
	packets int64   // upstream packets the simulator received
	rss     int64   // VmRSS at the end, KiB
	labels  map[string]int64
}

// pass is every round of one scenario at one concurrency, pooled.
type pass struct {
	Concurrency   int     `json:"concurrency"`
	Rounds        int     `json:"rounds"`
	Requests      int64   `json:"requests"`
	Errors        int64   `json:"errors"`
	FirstError    string  `json:"first_error,omitempty"`
	Seconds       float64 `json:"seconds"`
	Throughput    float64 `json:"req_per_s"`
	P50           int64   `json:"p50_ns"`
	P90           int64   `json:"p90_ns"`
	P99           int64   `json:"p99_ns"`
	Max           int64   `json:"max_ns"`
	Served        int64   `json:"served"` // requests the server received in the windows, counted in this process
	ServerCPU     float64 `json:"server_cpu_s"`
	ServerCPUPer  float64 `json:"server_cpu_us_per_req"`
	ClientCPUPer  float64 `json:"client_cpu_us_per_req"`
	RSSKiB        int64   `json:"rss_kib"`
	PacketsPerReq float64 `json:"upstream_packets_per_req"`
	// ByServer splits ServerCPUPer by the pprof label server= of the
	// goroutines that used it ("" = unlabelled: GC workers, runtime).
	ByServer map[string]float64 `json:"server_cpu_us_per_req_by_server,omitempty"`
}

// runScenarios measures every scenario in o.rounds rounds, interleaved
// (a b c d e f, a b c d e f, …), so that a change in the machine's background
// load hits every scenario alike; then pools each scenario's rounds.
func runScenarios(exe string, scs []*scenario, o options) error {
	if len(scs) == 0 {
		return nil
	}
	rounds := max(o.rounds, 1)
	loadDur := o.duration / time.Duration(rounds)
	for r := 1; r <= rounds; r++ {
		for _, sc := range scs {
			progress("round %d/%d (%s) %s: %v at concurrency %d", r, rounds, sc.Key, sc.Name, loadDur, o.concurrency)
			rd, err := runRound(exe, sc, o.concurrency, o.warmup, loadDur, profilePath(o, sc, o.concurrency, r))
			if err != nil {
				return fmt.Errorf("(%s): %w", sc.Key, err)
			}
			sc.loadRounds = append(sc.loadRounds, rd)
		}
	}
	for _, sc := range scs {
		sc.Load = pool(sc.loadRounds, o.concurrency, sc.sim != nil)
		if sc.Load.Errors > 0 {
			progress("warning: (%s) %d errors, first: %s", sc.Key, sc.Load.Errors, sc.Load.FirstError)
		}
	}
	return nil
}

func profilePath(o options, sc *scenario, concurrency, r int) string {
	if o.profileDir == "" {
		return ""
	}
	return filepath.Join(o.profileDir, fmt.Sprintf("cpu-%s-c%d-r%d.pprof", sc.Key, concurrency, r))
}

// runRound runs the load generator child against sc once.
func runRound(exe string, sc *scenario, concurrency int, warmup, duration time.Duration, profileFile string) (*round, error) {
	args := append(clientArgs(sc), "-raw", "-concurrency", strconv.Itoa(concurrency), "-warmup", warmup.String(), "-duration", duration.String())
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	runtime.GC() // start with the previous round's garbage collected
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { _ = cmd.Wait() }()
	defer pprof.StopCPUProfile() // a no-op unless the child died mid-window
	var (
		rd         round
		cpu0, cpu1 float64
		pk0, pk1   int64
		n0, n1     int64
		prof       bytes.Buffer
		gotResult  bool
	)
	packets := func() int64 {
		if sc.sim == nil {
			return 0
		}
		return sc.sim.Stats().Requests
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 64<<20)
	for lines.Scan() {
		line := lines.Bytes()
		switch {
		case string(line) == "start":
			// Always profiled (100 Hz sampling costs little): the labels
			// split the process's CPU between the servers sharing it.
			if err := pprof.StartCPUProfile(&prof); err != nil {
				return nil, err
			}
			n0, pk0, cpu0 = sc.srv.requests.Load(), packets(), processCPU()
		case string(line) == "end":
			cpu1, pk1, n1 = processCPU(), packets(), sc.srv.requests.Load()
			rd.rss = statusKB(os.Getpid(), "VmRSS")
			pprof.StopCPUProfile()
		case len(line) > 0 && line[0] == '{':
			if err := json.Unmarshal(line, &rd.res); err != nil {
				return nil, err
			}
			gotResult = true
		}
	}
	if err := lines.Err(); err != nil {
		return nil, err
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("load generator: %w", err)
	}
	if !gotResult || rd.res.Requests == 0 {
		return nil, fmt.Errorf("load generator reported no requests (errors %d: %s)", rd.res.Errors, rd.res.FirstError)
	}
	// Per-request figures divide by the requests counted here, between the
	// same two instants as the CPU and packet counters, so that a late read
	// of the child's start/end lines cannot skew them.
	rd.served, rd.cpu, rd.packets = n1-n0, cpu1-cpu0, pk1-pk0
	if profileFile != "" {
		if err := os.WriteFile(profileFile, prof.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	if rd.labels, err = cpuByLabel(prof.Bytes(), "server"); err != nil {
		progress("warning: reading the CPU profile: %v", err)
	}
	return &rd, nil
}

// pool sums rounds into one pass; latency percentiles are over every request.
func pool(rounds []*round, concurrency int, upstream bool) *pass {
	p := &pass{Concurrency: concurrency, Rounds: len(rounds)}
	var lat []int64
	var clientCPU float64
	labels := map[string]int64{}
	for _, rd := range rounds {
		p.Requests += rd.res.Requests
		p.Errors += rd.res.Errors
		if p.FirstError == "" {
			p.FirstError = rd.res.FirstError
		}
		p.Seconds += rd.res.Seconds
		p.Served += rd.served
		p.ServerCPU += rd.cpu
		p.RSSKiB = rd.rss
		clientCPU += rd.res.ClientCPU
		lat = append(lat, rd.res.Lat...)
		for k, v := range rd.labels {
			labels[k] += v
		}
		if upstream {
			p.PacketsPerReq += float64(rd.packets)
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		q := func(f float64) int64 { return lat[min(len(lat)-1, int(f*float64(len(lat))))] }
		p.P50, p.P90, p.P99, p.Max = q(0.5), q(0.9), q(0.99), lat[len(lat)-1]
	}
	p.Throughput = float64(p.Requests) / p.Seconds
	served := float64(max(p.Served, 1))
	p.ServerCPUPer = p.ServerCPU / served * 1e6
	p.ClientCPUPer = clientCPU / float64(max(p.Requests, 1)) * 1e6 // whole child runs, warm-up included: indicative only
	p.PacketsPerReq /= served
	var total int64
	for _, v := range labels {
		total += v
	}
	if total > 0 {
		p.ByServer = map[string]float64{}
		for k, v := range labels {
			p.ByServer[k] = p.ServerCPUPer * float64(v) / float64(total)
		}
	}
	return p
}

// Per-round views, for ratios computed round by round.
func (rd *round) throughput() float64 { return float64(rd.res.Requests) / rd.res.Seconds }
func (rd *round) cpuPer() float64     { return rd.cpu / float64(max(rd.served, 1)) * 1e6 }
func (rd *round) labelPer(names ...string) float64 {
	var total, mine int64
	for k, v := range rd.labels {
		total += v
		if slices.Contains(names, k) {
			mine += v
		}
	}
	if total == 0 {
		return 0
	}
	return rd.cpuPer() * float64(mine) / float64(total)
}

package main

import (
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/pleskgate/pleskgate/gateway"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

// pleskbench -capacity: a panel of limited capacity (plesksim --workers 4
// --latency 200ms: 20 packets a second) behind the gateway, with
// -callers concurrent callers each reading its own client (no coalescing)
// for -duration, once with admission (-concurrency, -queue) and once
// without, for comparison (issue 13 item 8, docs/BENCHMARKS.md §capacity).
//
// Goals with admission: the panel never holds more than -workers packets
// at once (in its queue and its workers together); 200s reach ≥ 90% of the
// panel's capacity; shed answers (503 upstream-busy) take < 10 ms; the p99
// of admitted requests is ≤ 2.5 s. A shed caller waits Retry-After (capped
// at 1 s, jittered down to half) before it tries again, as a well-behaved
// client does.

type capacityOptions struct {
	workers, callers, concurrency, queue int
	latency, duration                    time.Duration
}

type capacityResult struct {
	name                string
	ok, shed, other     int64
	firstOther          string
	panelMax            int64
	okLat, shedLat      []time.Duration
	seconds, panelCalls float64
}

func runCapacity(args []string) error {
	fs := flag.NewFlagSet("pleskbench -capacity", flag.ContinueOnError)
	var o capacityOptions
	fs.Bool("capacity", true, "run the capacity benchmark")
	fs.IntVar(&o.workers, "workers", 4, "the simulated panel's workers (plesksim --workers)")
	fs.DurationVar(&o.latency, "latency", 200*time.Millisecond, "the simulated panel's time per packet (plesksim --latency)")
	fs.IntVar(&o.callers, "callers", 64, "concurrent callers, each reading its own client")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "measured time of each run")
	fs.IntVar(&o.concurrency, "concurrency", 4, "PLESKGATE_UPSTREAM_CONCURRENCY of the run with admission")
	fs.IntVar(&o.queue, "queue", 32, "PLESKGATE_UPSTREAM_QUEUE of the run with admission")
	if err := fs.Parse(args); err != nil {
		return err
	}
	capacity := float64(o.workers) / o.latency.Seconds()
	progress("capacity: panel %d workers × %v = %.0f packets/s; %d callers for %v", o.workers, o.latency, capacity, o.callers, o.duration)
	var results []*capacityResult
	for _, run := range []struct {
		name        string
		conc, queue int
	}{
		{fmt.Sprintf("admission on (concurrency %d, queue %d)", o.concurrency, o.queue), o.concurrency, o.queue},
		{"admission off", 0, 0},
	} {
		r, err := capacityRun(o, run.name, run.conc, run.queue)
		if err != nil {
			return fmt.Errorf("%s: %w", run.name, err)
		}
		results = append(results, r)
	}
	fmt.Printf("\npanel: %d workers, %v per packet = %.0f packets/s; %d callers on distinct clients, %v each run\n\n", o.workers, o.latency, capacity, o.callers, o.duration)
	fmt.Println("| run | panel max at once | 200s/s | of capacity | admitted p50 | p99 | max | shed | shed p50 | shed p99 | shed max | other |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		okRate := float64(r.ok) / r.seconds
		fmt.Printf("| %s | %d | %.1f | %.0f%% | %s | %s | %s | %d | %s | %s | %s | %d |\n", r.name, r.panelMax, okRate, 100*okRate/capacity,
			msOf(pct(r.okLat, 50)), msOf(pct(r.okLat, 99)), msOf(pct(r.okLat, 100)), r.shed,
			msOf(pct(r.shedLat, 50)), msOf(pct(r.shedLat, 99)), msOf(pct(r.shedLat, 100)), r.other)
		if r.firstOther != "" {
			fmt.Printf("  first other answer: %s\n", r.firstOther)
		}
	}
	on := results[0]
	okRate := float64(on.ok) / on.seconds
	fmt.Println("\ngoals (admission on):")
	goal := func(name string, met bool, got string) {
		mark := "met"
		if !met {
			mark = "NOT met"
		}
		fmt.Printf("  %-46s %-8s %s\n", name, mark, got)
	}
	goal(fmt.Sprintf("panel holds ≤ %d packets at once", o.workers), on.panelMax <= int64(o.workers), strconv.FormatInt(on.panelMax, 10))
	goal("200s ≥ 90% of the panel's capacity", okRate >= 0.9*capacity, fmt.Sprintf("%.1f/s = %.0f%%", okRate, 100*okRate/capacity))
	goal("shed answers < 10 ms (p99)", len(on.shedLat) == 0 || pct(on.shedLat, 99) < 10*time.Millisecond, msOf(pct(on.shedLat, 99)))
	goal("admitted p99 ≤ 2.5 s", pct(on.okLat, 99) <= 2500*time.Millisecond, msOf(pct(on.okLat, 99)))
	return nil
}

// capacityRun serves a fresh simulator and gateway and runs the callers.
// conc 0 turns admission off.
func capacityRun(o capacityOptions, name string, conc, queue int) (*capacityResult, error) {
	sim, err := plesksim.New(plesksim.Config{AdminLogin: adminLogin, AdminPassword: adminPassword, Workers: o.workers,
		Faults: plesksim.Faults{Latency: o.latency}})
	if err != nil {
		return nil, err
	}
	if err := seed(sim, o.callers); err != nil {
		return nil, err
	}
	// The packets inside the panel at once: waiting for a worker or in one.
	var inPanel peakGauge
	simSrv, err := serve("sim", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inPanel.enter()
		defer inPanel.leave()
		sim.ServeHTTP(w, r)
	}))
	if err != nil {
		return nil, err
	}
	defer simSrv.close()
	protocol, err := gateway.ParseProtocolSetting("1.6.9.1") // pinned: one packet per request, no get_protos
	if err != nil {
		return nil, err
	}
	gw, err := gateway.New(gateway.Config{
		Upstream: upstream.Config{
			BaseURL: simSrv.url, Timeout: 30 * time.Second,
			Transport:   upstreamTransport(),
			Concurrency: conc, Queue: queue,
		},
		Protocol: protocol, Logger: benchLogger("discard"), DescriptorTTL: 10 * time.Minute,
	})
	if err != nil {
		return nil, err
	}
	gwSrv, err := serve("gateway", gw.Handler())
	if err != nil {
		return nil, err
	}
	defer gwSrv.close()

	clients := sim.Clients()
	if len(clients) < o.callers {
		return nil, fmt.Errorf("%d clients seeded, want %d", len(clients), o.callers)
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(adminLogin+":"+adminPassword))
	tr := &http.Transport{MaxIdleConnsPerHost: o.callers, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	res := &capacityResult{name: name}
	var mu sync.Mutex
	progress("%s: running %v", name, o.duration)
	start := time.Now()
	end := start.Add(o.duration)
	var wg sync.WaitGroup
	for i := range o.callers {
		url := fmt.Sprintf("%s/clients/%d", gwSrv.url, clients[i].ID)
		wg.Go(func() {
			var okLat, shedLat []time.Duration
			var ok, shed, other int64
			var firstOther string
			for time.Now().Before(end) {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header.Set("Authorization", auth)
				t0 := time.Now()
				resp, err := hc.Do(req)
				var retryAfter time.Duration
				status := 0
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
					if s, e := strconv.Atoi(resp.Header.Get("Retry-After")); e == nil {
						retryAfter = time.Duration(s) * time.Second
					}
				}
				d := time.Since(t0)
				if t0.Add(d).After(end) {
					break // began in the window, ended after it: not counted
				}
				switch {
				case status == http.StatusOK:
					ok++
					okLat = append(okLat, d)
				case status == http.StatusServiceUnavailable && retryAfter > 0:
					shed++
					shedLat = append(shedLat, d)
					// Jittered, as clients should: in step, the shed
					// callers would all come back in the same instant.
					time.Sleep(time.Duration((0.5 + rand.Float64()/2) * float64(min(retryAfter, time.Second))))
				default:
					other++
					if firstOther == "" {
						firstOther = fmt.Sprintf("status %d err %v", status, err)
					}
				}
			}
			mu.Lock()
			res.ok += ok
			res.shed += shed
			res.other += other
			if res.firstOther == "" {
				res.firstOther = firstOther
			}
			res.okLat = append(res.okLat, okLat...)
			res.shedLat = append(res.shedLat, shedLat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.seconds = o.duration.Seconds()
	res.panelMax = inPanel.peak.Load()
	slices.Sort(res.okLat)
	slices.Sort(res.shedLat)
	progress("%s: %d ok, %d shed, %d other; panel max %d", name, res.ok, res.shed, res.other, res.panelMax)
	return res, nil
}

// pct is the p-th percentile of sorted d (100: the maximum); 0 when empty.
func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := (len(d)*p + 99) / 100
	return d[min(max(i-1, 0), len(d)-1)]
}

func msOf(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pleskgate/pleskgate/gateway"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

// pleskbench -batch: -clients new clients created through the gateway in
// front of a panel of limited capacity (plesksim --workers 4 --latency
// 200ms), once as one POST /clients/batch and once as single POST /clients
// from -callers concurrent callers (issue 28 item 2, docs/BENCHMARKS.md
// §batch). Each run gets a fresh simulator and gateway; the packets are
// what the panel received, the wall time from the first request to the last
// answer. Goal: the batch takes ≥ 10× fewer packets.

type batchOptions struct {
	clients, workers, callers, concurrency int
	latency                                time.Duration
}

func runBatch(args []string) error {
	fs := flag.NewFlagSet("pleskbench -batch", flag.ContinueOnError)
	var o batchOptions
	fs.Bool("batch", true, "run the batch-create benchmark")
	fs.IntVar(&o.clients, "clients", 100, "clients to create (at most 100: one batch)")
	fs.IntVar(&o.workers, "workers", 4, "the simulated panel's workers (plesksim --workers)")
	fs.DurationVar(&o.latency, "latency", 200*time.Millisecond, "the simulated panel's time per packet (plesksim --latency)")
	fs.IntVar(&o.callers, "callers", 8, "concurrent callers of the single POSTs")
	fs.IntVar(&o.concurrency, "concurrency", 8, "PLESKGATE_UPSTREAM_CONCURRENCY")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.clients < 1 || o.clients > 100 {
		return fmt.Errorf("-clients %d: a batch holds 1 to 100", o.clients)
	}
	progress("batch: %d clients; panel %d workers × %v per packet", o.clients, o.workers, o.latency)
	type result struct {
		name    string
		packets int64
		created int
		wall    time.Duration
	}
	var results []result
	for _, batch := range []bool{true, false} {
		name := fmt.Sprintf("%d × POST /clients, %d callers", o.clients, o.callers)
		if batch {
			name = fmt.Sprintf("1 × POST /clients/batch of %d", o.clients)
		}
		packets, created, wall, err := batchRun(o, batch)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		progress("%s: %d packets, %d created, %v", name, packets, created, wall)
		results = append(results, result{name, packets, created, wall})
	}
	fmt.Printf("\npanel: %d workers, %v per packet; gateway upstream concurrency %d; %d new clients each run\n\n", o.workers, o.latency, o.concurrency, o.clients)
	fmt.Println("| run | packets | clients created | wall time |")
	fmt.Println("|---|---|---|---|")
	for _, r := range results {
		fmt.Printf("| %s | %d | %d | %.2f s |\n", r.name, r.packets, r.created, r.wall.Seconds())
	}
	b, s := results[0], results[1]
	fmt.Printf("\nsingle ÷ batch: packets %.0f×, wall time %.1f×\n", float64(s.packets)/float64(b.packets), s.wall.Seconds()/b.wall.Seconds())
	mark := "met"
	if s.packets < 10*b.packets || b.created != o.clients || s.created != o.clients {
		mark = "NOT met"
	}
	fmt.Printf("goal: batch ≥ 10× fewer packets, every client created: %s\n", mark)
	return nil
}

// batchRun creates o.clients clients through a fresh gateway and panel, as
// one batch or as single POSTs, and returns the packets the panel received,
// the clients created and the wall time.
func batchRun(o batchOptions, batch bool) (packets int64, created int, wall time.Duration, err error) {
	sim, err := plesksim.New(plesksim.Config{AdminLogin: adminLogin, AdminPassword: adminPassword, Workers: o.workers,
		Faults: plesksim.Faults{Latency: o.latency}})
	if err != nil {
		return 0, 0, 0, err
	}
	simSrv, err := serve("sim", sim)
	if err != nil {
		return 0, 0, 0, err
	}
	defer simSrv.close()
	protocol, err := gateway.ParseProtocolSetting("1.6.9.1") // pinned: no get_protos packet
	if err != nil {
		return 0, 0, 0, err
	}
	gw, err := gateway.New(gateway.Config{
		Upstream: upstream.Config{BaseURL: simSrv.url, Timeout: 30 * time.Second, Transport: upstreamTransport(), Concurrency: o.concurrency},
		Protocol: protocol, Logger: benchLogger("discard"),
	})
	if err != nil {
		return 0, 0, 0, err
	}
	gwSrv, err := serve("gateway", gw.Handler())
	if err != nil {
		return 0, 0, 0, err
	}
	defer gwSrv.close()

	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(adminLogin+":"+adminPassword))
	tr := &http.Transport{MaxIdleConnsPerHost: o.callers, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	post := func(path string, body any) (int, []byte, error) {
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, gwSrv.url+path, bytes.NewReader(data))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		return resp.StatusCode, out, err
	}
	item := func(i int) map[string]any {
		login := fmt.Sprintf("bench%03d", i)
		return map[string]any{"name": "Bench Client", "login": login, "password": "Bench-Pass-42", "email": login + "@example.com"}
	}

	sim.ResetStats()
	start := time.Now()
	var ok atomic.Int64
	if batch {
		items := make([]map[string]any, o.clients)
		for i := range items {
			items[i] = item(i)
		}
		status, body, err := post("/clients/batch", map[string]any{"clients": items})
		if err != nil || status != http.StatusOK {
			return 0, 0, 0, fmt.Errorf("status %d err %v: %.300s", status, err, body)
		}
		var out struct {
			Results []struct{ Status int } `json:"results"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return 0, 0, 0, err
		}
		for _, r := range out.Results {
			if r.Status == http.StatusCreated {
				ok.Add(1)
			}
		}
	} else {
		next := atomic.Int64{}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr string
		for range o.callers {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < o.clients; i = int(next.Add(1)) - 1 {
					status, body, err := post("/clients", item(i))
					if err != nil || status != http.StatusCreated {
						mu.Lock()
						if firstErr == "" {
							firstErr = fmt.Sprintf("status %d err %v: %.300s", status, err, body)
						}
						mu.Unlock()
						continue
					}
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		if firstErr != "" {
			return 0, 0, 0, fmt.Errorf("%s", firstErr)
		}
	}
	wall = time.Since(start)
	return sim.Stats().Requests, int(ok.Load()), wall, nil
}

package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/pleskgate/pleskgate/plesksim"
)

// pleskbench -hangups -gateway BIN: issue 26's hang-ups. A panel that takes
// -latency per packet and, like PHP, finishes a packet after its client
// left (slowPanel) stands behind BIN with PLESKGATE_UPSTREAM_CONCURRENCY
// -concurrency; -requests GETs of distinct clients (no coalescing), -parallel
// at a time, each caller hanging up after -hangup. It reports the most
// packets the panel held at once (the goal: ≤ -concurrency), how many it
// received, and what the callers saw. It asserts nothing.
func runHangups(args []string) error {
	fs := flag.NewFlagSet("pleskbench -hangups", flag.ContinueOnError)
	fs.Bool("hangups", true, "run the hang-up flood")
	bin := fs.String("gateway", "bin/pleskgate", "pleskgate binary to start")
	latency := fs.Duration("latency", 3*time.Second, "the panel's time per packet")
	concurrency := fs.Int("concurrency", 8, "PLESKGATE_UPSTREAM_CONCURRENCY")
	requests := fs.Int("requests", 400, "GETs in all, each of its own client")
	parallel := fs.Int("parallel", 20, "GETs at a time")
	hangup := fs.Duration("hangup", 150*time.Millisecond, "each caller hangs up after this")
	if err := fs.Parse(args); err != nil {
		return err
	}
	load0 := loadAvg()
	sim, err := plesksim.New(plesksim.Config{AdminLogin: adminLogin, AdminPassword: adminPassword})
	if err != nil {
		return err
	}
	ids, err := seedAs(sim, adminLogin, adminPassword, "hang", *requests+1)
	if err != nil {
		return err
	}
	var inPanel peakGauge
	panel, err := serve("panel", slowPanel(sim, *latency, &inPanel))
	if err != nil {
		return err
	}
	defer panel.close()
	g, err := panelGateway(*bin, panel.url, "PLESKGATE_UPSTREAM_CONCURRENCY="+strconv.Itoa(*concurrency))
	if err != nil {
		return err
	}
	defer g.stop()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(adminLogin+":"+adminPassword))
	get := func(ctx context.Context, id int) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/clients/%d", g.addr, id), nil)
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	// Preflight: one patient caller gets its client.
	ctx, cancel := context.WithTimeout(context.Background(), *latency+10*time.Second)
	resp, err := get(ctx, ids[*requests])
	cancel()
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("preflight GET /clients/%d: %s", ids[*requests], outcome(resp, err))
	}
	inPanel.waitIdle(*latency)
	inPanel.reset()

	var seen tally
	next := make(chan int, *requests)
	for _, id := range ids[:*requests] {
		next <- id
	}
	close(next)
	t0 := time.Now()
	var wg sync.WaitGroup
	for range *parallel {
		wg.Go(func() {
			for id := range next {
				ctx, cancel := context.WithTimeout(context.Background(), *hangup)
				resp, err := get(ctx, id)
				cancel()
				seen.add(outcome(resp, err))
			}
		})
	}
	wg.Wait()
	sent := time.Since(t0)
	drained := inPanel.waitIdle(40 * time.Second)
	fmt.Printf("hang-ups: %d GETs of distinct clients, %d at a time, each hanging up after %s, against %s (pid %d); panel %s per packet, finishing after its client left; PLESKGATE_UPSTREAM_CONCURRENCY=%d\n",
		*requests, *parallel, *hangup, *bin, g.pid(), *latency, *concurrency)
	fmt.Printf("  load average %s → %s\n", load0, loadAvg())
	fmt.Printf("  sent in %.1fs; the callers saw: %s\n", sent.Seconds(), seen.String())
	fmt.Printf("  panel: at most %d packets at once (goal ≤ %d), %d received", inPanel.peak.Load(), *concurrency, inPanel.total.Load())
	if drained {
		fmt.Printf(", all done %.1fs after the first GET\n", time.Since(t0).Seconds())
	} else {
		fmt.Printf(", %d still in progress 40 s after the last GET\n", inPanel.now.Load())
	}
	return nil
}

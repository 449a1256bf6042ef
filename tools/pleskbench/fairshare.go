package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pleskgate/pleskgate/plesksim"
)

// pleskbench -fairshare -gateway BIN: issue 26's "one caller fills the
// shared queue". A panel taking -latency per packet (slowPanel) stands
// behind BIN with PLESKGATE_UPSTREAM_CONCURRENCY -concurrency and
// PLESKGATE_UPSTREAM_QUEUE -queue. One flooder (a reseller with Basic
// credentials, or a Plesk secret key in X-API-Key; -flooder runs each
// named) keeps -flood reads of its own distinct clients going; a refused
// read is sent again after 100 ms. Once the flood has run -warm, the
// administrator sends -reads reads of distinct clients, -every apart, and
// another key the same reads half a period later, with /readyz probed
// alongside. It reports how many of each were answered 200. It asserts
// nothing.
func runFairShare(args []string) error {
	fs := flag.NewFlagSet("pleskbench -fairshare", flag.ContinueOnError)
	var o fairOptions
	fs.Bool("fairshare", true, "run the queue-share flood")
	fs.StringVar(&o.bin, "gateway", "bin/pleskgate", "pleskgate binary to start")
	fs.DurationVar(&o.latency, "latency", time.Second, "the panel's time per packet")
	fs.IntVar(&o.concurrency, "concurrency", 8, "PLESKGATE_UPSTREAM_CONCURRENCY")
	fs.IntVar(&o.queue, "queue", 64, "PLESKGATE_UPSTREAM_QUEUE")
	fs.IntVar(&o.flood, "flood", 100, "reads the flooder keeps going")
	fs.IntVar(&o.reads, "reads", 20, "reads of the administrator (and of the other key)")
	fs.DurationVar(&o.every, "every", 300*time.Millisecond, "time between those reads")
	fs.DurationVar(&o.warm, "warm", 2*time.Second, "how long the flood runs before the first of them")
	fs.DurationVar(&o.timeout, "read-timeout", 30*time.Second, "how long the administrator and the other key wait for an answer")
	flooders := fs.String("flooder", "reseller,key", "who floods, comma-separated, one run each: reseller (Basic) or key (X-API-Key)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, f := range strings.Split(*flooders, ",") {
		if f != "reseller" && f != "key" {
			return fmt.Errorf("-flooder %q: want reseller or key", f)
		}
		if err := fairRun(o, f); err != nil {
			return fmt.Errorf("flooder %s: %w", f, err)
		}
	}
	return nil
}

type fairOptions struct {
	bin                           string
	latency, every, warm, timeout time.Duration
	concurrency, queue            int
	flood, reads                  int
}

const (
	floodReseller, floodResellerPassword = "floodres", "flood-Res-Pass1"
	floodKey, otherKey                   = "flood-key-0123456789", "other-key-0123456789"
)

func fairRun(o fairOptions, flooder string) error {
	load0 := loadAvg()
	sim, err := plesksim.New(plesksim.Config{AdminLogin: adminLogin, AdminPassword: adminPassword,
		Resellers: []plesksim.Account{{Login: floodReseller, Password: floodResellerPassword}},
		Keys:      []string{floodKey, otherKey}})
	if err != nil {
		return err
	}
	floodIDs, err := seedAs(sim, floodReseller, floodResellerPassword, "flood", o.flood)
	if err != nil {
		return err
	}
	adminIDs, err := seedAs(sim, adminLogin, adminPassword, "adm", o.reads)
	if err != nil {
		return err
	}
	var inPanel peakGauge
	panel, err := serve("panel", slowPanel(sim, o.latency, &inPanel))
	if err != nil {
		return err
	}
	defer panel.close()
	g, err := panelGateway(o.bin, panel.url, "PLESKGATE_UPSTREAM_CONCURRENCY="+strconv.Itoa(o.concurrency), "PLESKGATE_UPSTREAM_QUEUE="+strconv.Itoa(o.queue))
	if err != nil {
		return err
	}
	defer g.stop()

	basic := func(login, password string) [2]string {
		return [2]string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+password))}
	}
	admin, other := basic(adminLogin, adminPassword), [2]string{"X-API-Key", otherKey}
	flood := basic(floodReseller, floodResellerPassword)
	if flooder == "key" {
		flood = [2]string{"X-API-Key", floodKey}
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.flood + 2*o.reads, DisableCompression: true}}
	get := func(ctx context.Context, path string, h [2]string) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+g.addr+path, nil)
		if h[0] != "" {
			req.Header.Set(h[0], h[1])
		}
		resp, err := hc.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	// Preflight: each caller reads one client.
	var pre sync.WaitGroup
	preErr := make(chan string, 3)
	for _, c := range []struct {
		id int
		h  [2]string
	}{{adminIDs[0], admin}, {adminIDs[0], other}, {floodIDs[0], flood}} {
		pre.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), o.latency+10*time.Second)
			defer cancel()
			if resp, err := get(ctx, "/clients/"+strconv.Itoa(c.id), c.h); err != nil || resp.StatusCode != http.StatusOK {
				preErr <- fmt.Sprintf("preflight %s GET /clients/%d: %s", c.h[0], c.id, outcome(resp, err))
			}
		})
	}
	pre.Wait()
	close(preErr)
	if e, ok := <-preErr; ok {
		return fmt.Errorf("%s", e)
	}
	inPanel.waitIdle(o.latency + time.Second)
	inPanel.reset()

	floodCtx, stopFlood := context.WithCancel(context.Background())
	var floodSeen tally
	var flooding sync.WaitGroup
	for _, id := range floodIDs {
		flooding.Go(func() {
			for floodCtx.Err() == nil {
				resp, err := get(floodCtx, "/clients/"+strconv.Itoa(id), flood)
				if floodCtx.Err() != nil {
					return
				}
				floodSeen.add(outcome(resp, err))
				if err != nil || resp.StatusCode != http.StatusOK {
					select {
					case <-floodCtx.Done():
					case <-time.After(100 * time.Millisecond):
					}
				}
			}
		})
	}
	time.Sleep(o.warm)

	var adminSeen, otherSeen, readySeen tally
	var mu sync.Mutex
	var adminLat, otherLat []time.Duration
	var reading sync.WaitGroup
	read := func(id int, h [2]string, seen *tally, lat *[]time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		defer cancel()
		t0 := time.Now()
		resp, err := get(ctx, "/clients/"+strconv.Itoa(id), h)
		seen.add(outcome(resp, err))
		if err == nil && resp.StatusCode == http.StatusOK {
			mu.Lock()
			*lat = append(*lat, time.Since(t0))
			mu.Unlock()
		}
	}
	t0 := time.Now()
	for i := range o.reads {
		time.Sleep(time.Until(t0.Add(time.Duration(i) * o.every)))
		reading.Go(func() { read(adminIDs[i], admin, &adminSeen, &adminLat) })
		reading.Go(func() {
			time.Sleep(o.every / 2)
			read(adminIDs[i], other, &otherSeen, &otherLat)
		})
		reading.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			resp, err := get(ctx, "/readyz", [2]string{})
			readySeen.add(outcome(resp, err))
		})
	}
	reading.Wait()
	stopFlood()
	flooding.Wait()
	drained := inPanel.waitIdle(o.timeout)

	who := "a reseller (Basic)"
	if flooder == "key" {
		who = "one Plesk key (X-API-Key)"
	}
	slices.Sort(adminLat)
	slices.Sort(otherLat)
	fmt.Printf("queue share: %s keeps %d reads going against %s (pid %d); panel %s per packet; PLESKGATE_UPSTREAM_CONCURRENCY=%d, PLESKGATE_UPSTREAM_QUEUE=%d\n",
		who, o.flood, o.bin, g.pid(), o.latency, o.concurrency, o.queue)
	fmt.Printf("  load average %s → %s\n", load0, loadAvg())
	fmt.Printf("  administrator: %d/%d answered 200 (%s); 200s took %s\n", adminSeen.get("200"), o.reads, adminSeen.String(), latencies(adminLat))
	fmt.Printf("  another key:   %d/%d answered 200 (%s); 200s took %s\n", otherSeen.get("200"), o.reads, otherSeen.String(), latencies(otherLat))
	fmt.Printf("  /readyz meanwhile: %s\n", readySeen.String())
	fmt.Printf("  the flooder saw: %s\n", floodSeen.String())
	fmt.Printf("  panel: at most %d packets at once, %d received", inPanel.peak.Load(), inPanel.total.Load())
	if !drained {
		fmt.Printf(", %d still in progress at the end", inPanel.now.Load())
	}
	fmt.Println()
	return nil
}

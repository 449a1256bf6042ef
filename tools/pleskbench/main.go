// Command pleskbench measures pleskgate against the floors of
// docs/BENCHMARKS.md, in one bounded run on loopback only:
//
//	(a) GET /clients/{id} through pleskgate
//	(b) the same customer/get packet POSTed straight to plesksim
//	(c) the same packet through a plain httputil.ReverseProxy
//	(d) a cached GET /descriptors/limits through pleskgate (legacy-only upstream)
//	(e) a static Echo JSON handler serving (d)'s bytes
//	(f) a bare net/http handler serving (d)'s bytes
//
// Goals (as issue 27 re-based them): (a)'s whole-process CPU per request
// ≤ 1.5 × (c)'s ((b) gives the simulator's share, for the net figure);
// (d) ≤ 2.5 × (f) CPU per request; a walk of GET /clients over 10,000 clients peaks at ≤ 3 × the
// listing's bytes of heap. Every server runs in this process on 127.0.0.1;
// the load comes from a child process (pleskbench -client …), so the CPU
// figures are the servers' alone, and pprof labels split that CPU between
// the servers. Each scenario's time is cut into rounds interleaved across
// (a)–(f), so that a shared machine's background load hits all alike.
//
// It builds the gateway as cmd/pleskgate does, through gateway's exported
// API only.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/pleskgate/pleskgate/plesksim"
	"github.com/pleskgate/pleskgate/translator"
)

func main() {
	var err error
	if len(os.Args) > 1 && (os.Args[1] == "-client" || os.Args[1] == "--client") {
		err = runClient(os.Args[1:])
	} else if len(os.Args) > 1 && (os.Args[1] == "-capacity" || os.Args[1] == "--capacity") {
		err = runCapacity(os.Args[1:]) // capacity.go
	} else if len(os.Args) > 1 && (os.Args[1] == "-batch" || os.Args[1] == "--batch") {
		err = runBatch(os.Args[1:]) // batch.go
	} else if len(os.Args) > 1 && (os.Args[1] == "-headerflood" || os.Args[1] == "--headerflood") {
		err = runHeaderFlood(os.Args[1:]) // headerflood.go
	} else if len(os.Args) > 1 && (os.Args[1] == "-idleflood" || os.Args[1] == "--idleflood") {
		err = runIdleFlood(os.Args[1:]) // idleflood.go
	} else if len(os.Args) > 1 && (os.Args[1] == "-partialheads" || os.Args[1] == "--partialheads") {
		err = runPartialHeads(os.Args[1:]) // partialheads.go
	} else if len(os.Args) > 1 && (os.Args[1] == "-hangups" || os.Args[1] == "--hangups") {
		err = runHangups(os.Args[1:]) // hangups.go
	} else if len(os.Args) > 1 && (os.Args[1] == "-fairshare" || os.Args[1] == "--fairshare") {
		err = runFairShare(os.Args[1:]) // fairshare.go
	} else if len(os.Args) > 1 && (os.Args[1] == "-biganswers" || os.Args[1] == "--biganswers") {
		err = runBigAnswers(os.Args[1:]) // biganswers.go
	} else {
		err = run(os.Args[1:])
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "pleskbench:", err)
		os.Exit(1)
	}
}

type options struct {
	duration, warmup             time.Duration
	concurrency, rounds          int
	listClients, pageSize        int
	profileDir, jsonOut, logMode string
	only                         string
}

// scenario is one of (a)–(f).
type scenario struct {
	Key, Name string
	url       string
	method    string
	body      string
	// urls and bodies, when set, give each load worker its own request
	// (worker w the w-th, round robin); url and body are the preflight's.
	urls, bodies []string
	headers      []string
	sim          *plesksim.Server // whose packet counter to read; nil: no upstream
	srv          *served          // the server the load hits: its request counter normalises CPU and packets
	BodyBytes    int              `json:"body_bytes"`

	Load *pass `json:"load"`

	loadRounds []*round
}

type report struct {
	Machine   map[string]string  `json:"machine"`
	Scenarios []*scenario        `json:"scenarios"`
	Ratios    map[string]float64 `json:"ratios"`
	// RatioRounds holds each ratio computed round by round (same background
	// load for both sides): min, median, max.
	RatioRounds map[string][3]float64 `json:"ratio_rounds"`
	Listing     *listRow              `json:"listing"`
	Goals       []goal                `json:"goals"`
}

func run(args []string) error {
	fs := flag.NewFlagSet("pleskbench", flag.ContinueOnError)
	var o options
	fs.DurationVar(&o.duration, "duration", 8*time.Second, "measured time of each scenario (a)-(f) at -concurrency, split over -rounds")
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unmeasured warm-up before each round")
	fs.IntVar(&o.rounds, "rounds", 4, "split each pass into this many rounds, interleaved across (a)-(f), so that all scenarios see the same background load")
	fs.IntVar(&o.concurrency, "concurrency", 8, "closed-loop workers (keep-alive connections) of the load passes")
	fs.IntVar(&o.listClients, "list-clients", 10000, "clients in the GET /clients walk")
	fs.IntVar(&o.pageSize, "page", 1000, "limit= of the listing pages (the gateway's maximum is 1000)")
	fs.StringVar(&o.profileDir, "profile", "", "write CPU profiles of each pass and a heap profile of the listing to this directory")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&o.logMode, "log", "discard", "gateway access log: discard (production JSON encoder, sampled, to io.Discard) or none (zap.NewNop)")
	fs.StringVar(&o.only, "only", "abcdefl", "parts to run: a-f scenarios, l listing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.concurrency < 1 || o.rounds < 1 || o.duration <= 0 {
		return fmt.Errorf("-concurrency and -rounds must be at least 1 and -duration positive (got %d, %d, %s)", o.concurrency, o.rounds, o.duration)
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	began := time.Now()
	rep := &report{Machine: map[string]string{
		"nproc": strconv.Itoa(runtime.NumCPU()), "gomaxprocs": strconv.Itoa(runtime.GOMAXPROCS(0)),
		"cpu": cpuModel(), "go": runtime.Version(), "loadavg_start": loadAvg(),
		"duration": o.duration.String(), "warmup": o.warmup.String(), "concurrency": strconv.Itoa(o.concurrency),
		"log": o.logMode, "rounds": strconv.Itoa(o.rounds),
	}, Ratios: map[string]float64{}, RatioRounds: map[string][3]float64{}}
	progress("pleskbench: %d CPUs (%s), %s, load average %s", runtime.NumCPU(), rep.Machine["cpu"], runtime.Version(), rep.Machine["loadavg_start"])
	if l, err := strconv.ParseFloat(strings.Fields(rep.Machine["loadavg_start"])[0], 64); err == nil && l > float64(runtime.NumCPU())/2 {
		progress("warning: the machine is busy (load average %.1f on %d CPUs): figures will be noisy", l, runtime.NumCPU())
	}

	// The modern simulator with demo clients, and what stands in front of it.
	sim, simSrv, err := newSim("sim", "1.6.9.1", true)
	if err != nil {
		return err
	}
	defer simSrv.close()
	gw, err := newGateway("gateway", simSrv.url, "", o.logMode)
	if err != nil {
		return err
	}
	defer gw.close()
	proxy, err := newProxy(simSrv.url)
	if err != nil {
		return err
	}
	defer proxy.close()
	// The legacy-only simulator for descriptors (newest 1.6.0.2).
	legacySim, legacySrv, err := newSim("legacy-sim", "1.6.0.2", true)
	if err != nil {
		return err
	}
	defer legacySrv.close()
	legacyGw, err := newGateway("legacy-gateway", legacySrv.url, "", o.logMode)
	if err != nil {
		return err
	}
	defer legacyGw.close()

	// Each load worker reads its own client, so that no two identical reads
	// are ever in flight at once: the gateway coalesces those (one packet for
	// several requests), which would flatter (a) against (c).
	if err := seed(sim, o.concurrency); err != nil {
		return err
	}
	basic := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(adminLogin+":"+adminPassword))
	pleskAuth := []string{"HTTP_AUTH_LOGIN: " + adminLogin, "HTTP_AUTH_PASSWD: " + adminPassword, "Content-Type: text/xml; charset=UTF-8"}
	var getURLs, packets []string
	for _, c := range sim.Clients()[:o.concurrency] {
		// Exactly the packet the gateway sends for GET /clients/{id}.
		packet, err := translator.EncodeRequest(newestVersion(sim), &translator.GetRequest{Filter: translator.ByID(c.ID), GenInfo: true})
		if err != nil {
			return err
		}
		getURLs = append(getURLs, fmt.Sprintf("%s/clients/%d", gw.url, c.ID))
		packets = append(packets, string(packet))
	}

	scA := &scenario{Key: "a", Name: "GET /clients/{id} via pleskgate", url: getURLs[0], urls: getURLs, method: http.MethodGet, headers: []string{basic}, sim: sim, srv: gw}
	scB := &scenario{Key: "b", Name: "customer/get packet straight to plesksim", url: simSrv.url + plesksim.AgentPath, method: http.MethodPost, body: packets[0], bodies: packets, headers: pleskAuth, sim: sim, srv: simSrv}
	scC := &scenario{Key: "c", Name: "same packet via httputil.ReverseProxy", url: proxy.url + plesksim.AgentPath, method: http.MethodPost, body: packets[0], bodies: packets, headers: pleskAuth, sim: sim, srv: proxy}
	scD := &scenario{Key: "d", Name: "GET /descriptors/limits via pleskgate (cache hit)", url: legacyGw.url + "/descriptors/limits", method: http.MethodGet, headers: []string{basic}, sim: legacySim, srv: legacyGw}
	scE := &scenario{Key: "e", Name: "static Echo JSON handler, (d)'s body", method: http.MethodGet}
	scF := &scenario{Key: "f", Name: "bare net/http handler, (d)'s body", method: http.MethodGet}

	// Preflight: each scenario answers what it should; (d) warms its cache.
	for _, sc := range []*scenario{scA, scB, scC} {
		st, _, body, err := do(sc.method, sc.url, sc.body, sc.headers)
		if err != nil || st != http.StatusOK || !strings.Contains(string(body), "jdoe") || strings.Contains(string(body), "<status>error") {
			return fmt.Errorf("preflight %s: %d %v %.300s", sc.Key, st, err, body)
		}
		sc.BodyBytes = len(body)
	}
	var descBody []byte
	for i := range 2 {
		st, h, body, err := do(scD.method, scD.url, "", scD.headers)
		if err != nil || st != http.StatusOK {
			return fmt.Errorf("preflight d: %d %v %.300s", st, err, body)
		}
		if i == 1 && !strings.Contains(strings.ToLower(h.Get("Cache-Status")), "hit") {
			progress("warning: second descriptor read has Cache-Status %q", h.Get("Cache-Status"))
		}
		descBody = body
	}
	scD.BodyBytes = len(descBody)
	static, err := newStatic("/descriptors/limits", descBody)
	if err != nil {
		return err
	}
	defer static.close()
	scE.url, scE.srv = static.url+"/descriptors/limits", static
	bare, err := newBare("/descriptors/limits", descBody)
	if err != nil {
		return err
	}
	defer bare.close()
	scF.url, scF.srv = bare.url+"/descriptors/limits", bare
	for _, sc := range []*scenario{scE, scF} {
		if st, _, body, err := do(sc.method, sc.url, "", nil); err != nil || st != http.StatusOK || !bytes.Equal(body, descBody) {
			return fmt.Errorf("preflight %s: %d %v", sc.Key, st, err)
		}
		sc.BodyBytes = len(descBody)
	}

	for _, sc := range []*scenario{scA, scB, scC, scD, scE, scF} {
		if strings.Contains(o.only, sc.Key) {
			rep.Scenarios = append(rep.Scenarios, sc)
		}
	}
	if err := runScenarios(exe, rep.Scenarios, o); err != nil {
		return err
	}
	if strings.Contains(o.only, "l") {
		if rep.Listing, err = runListing(o, basic); err != nil {
			return fmt.Errorf("listing: %w", err)
		}
	}
	rep.Machine["loadavg_end"] = loadAvg()
	rep.Machine["wall_s"] = fmt.Sprintf("%.1f", time.Since(began).Seconds())
	rep.Machine["vmhwm_kib"] = strconv.FormatInt(statusKB(os.Getpid(), "VmHWM"), 10)
	computeRatios(rep)
	rep.Goals = judge(rep)
	printReport(os.Stdout, rep, o)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "# "+format+"\n", args...)
}

// do sends one request from this process (preflight and listing).
func do(method, url, body string, headers []string) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header[strings.TrimSpace(k)] = []string{strings.TrimSpace(v)}
	}
	resp, err := localClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

var localClient = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}

func clientArgs(sc *scenario) []string {
	args := []string{"-client", "-method", sc.method}
	urls, bodies := sc.urls, sc.bodies
	if len(urls) == 0 {
		urls = []string{sc.url}
	}
	if len(bodies) == 0 && sc.body != "" {
		bodies = []string{sc.body}
	}
	for _, u := range urls {
		args = append(args, "-url", u)
	}
	for _, b := range bodies {
		args = append(args, "-body", b)
	}
	for _, h := range sc.headers {
		args = append(args, "-header", h)
	}
	return args
}

package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/pleskgate/pleskgate/gateway"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

// StormConfig sizes a brute-force storm (issue 13 item 9): wrong passwords
// from many addresses, all through one trusted proxy (X-Forwarded-For),
// beside normal traffic from callers whose credentials Plesk accepted.
type StormConfig struct {
	WrongPasswords   int // default 2000
	Addresses        int // distinct forwarded caller addresses of the storm; default 200
	Concurrency      int // storm workers; default 64
	NormalCallers    int // callers with right credentials, each its own login and address; default 8
	NormalRequests   int // requests each normal caller sends during the storm; default 50
	PerAddressBudget int // PLESKGATE_AUTH_FAILURES_PER_MINUTE; default 10
	GlobalBudget     int // PLESKGATE_UPSTREAM_AUTH_FAILURES_PER_MINUTE; default 30
}

// StormReport is what the panel and the callers saw.
type StormReport struct {
	Config            StormConfig
	Duration          time.Duration
	StormAnswers      map[int]int64 // status → count, for the wrong passwords
	PanelPackets      int64         // packets the simulator received during the storm
	PanelFailedLogins int64         // of which were refused logins (1001/1029/11003)
	Allowed           int64         // failed logins the global budget allows over Duration
	NormalSent        int64
	NormalErrors      int64 // normal requests answered other than 2xx
	Samples           []string
}

// OK: the panel saw no more failed logins than the global budget allows,
// and the normal callers saw no error.
func (r StormReport) OK() bool {
	return r.PanelFailedLogins <= r.Allowed && r.NormalErrors == 0
}

// Print writes the report for people.
func (r StormReport) Print(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "storm:             %d wrong passwords from %d addresses via a trusted proxy, %d normal callers × %d requests, in %v\n",
		c.WrongPasswords, c.Addresses, c.NormalCallers, c.NormalRequests, r.Duration.Round(time.Millisecond))
	codes := make([]int, 0, len(r.StormAnswers))
	for code := range r.StormAnswers {
		codes = append(codes, code)
	}
	sort.Ints(codes)
	var parts []string
	for _, code := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", code, r.StormAnswers[code]))
	}
	fmt.Fprintf(w, "storm answers:     %s\n", strings.Join(parts, "  "))
	fmt.Fprintf(w, "panel:             %d packets, %d failed logins (budget allows %d: %d per minute)\n",
		r.PanelPackets, r.PanelFailedLogins, r.Allowed, c.GlobalBudget)
	fmt.Fprintf(w, "normal callers:    %d requests, %d errors\n", r.NormalSent, r.NormalErrors)
	for _, s := range r.Samples {
		fmt.Fprintf(w, "  - %s\n", s)
	}
	if r.OK() {
		fmt.Fprintln(w, "result:            OK")
	} else {
		fmt.Fprintln(w, "result:            FAILED")
	}
}

// failCounter counts what reaches the simulator: packets, and answers that
// refuse the login.
type failCounter struct {
	next    http.Handler
	packets atomic.Int64
	failed  atomic.Int64
}

type sniffWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *sniffWriter) Write(b []byte) (int, error) {
	if w.buf.Len() < 4096 { // the system error is at the top of the answer
		w.buf.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (fc *failCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fc.packets.Add(1)
	sw := &sniffWriter{ResponseWriter: w}
	fc.next.ServeHTTP(sw, r)
	b := sw.buf.Bytes()
	for _, code := range []string{"1001", "1029", "11003"} {
		if bytes.Contains(b, []byte("<errcode>"+code+"</errcode>")) {
			fc.failed.Add(1)
			return
		}
	}
}

// Storm starts a simulator and a gateway on loopback (the gateway trusts
// 127.0.0.0/8 as its proxy), lets the normal callers log in once, then runs
// the storm and the normal traffic side by side.
func Storm(ctx context.Context, cfg StormConfig) (StormReport, error) {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.WrongPasswords, 2000)
	def(&cfg.Addresses, 200)
	def(&cfg.Concurrency, 64)
	def(&cfg.NormalCallers, 8)
	def(&cfg.NormalRequests, 50)
	def(&cfg.PerAddressBudget, 10)
	def(&cfg.GlobalBudget, 30)
	rep := StormReport{Config: cfg, StormAnswers: map[int]int64{}}

	adminPass := randomHex(12)
	var accounts []plesksim.Account
	for i := 0; i < cfg.NormalCallers; i++ {
		accounts = append(accounts, plesksim.Account{Login: "normal" + strconv.Itoa(i), Password: randomHex(12)})
	}
	sim, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: adminPass, Resellers: accounts})
	if err != nil {
		return rep, err
	}
	fc := &failCounter{next: sim}
	simSrv, simURL, err := serveLoopback(fc)
	if err != nil {
		return rep, err
	}
	defer simSrv.Close()
	upTr := http.DefaultTransport.(*http.Transport).Clone()
	upTr.MaxIdleConnsPerHost = cfg.Concurrency * 2
	defer upTr.CloseIdleConnections()
	gw, err := gateway.New(gateway.Config{
		Upstream:                      upstream.Config{BaseURL: simURL, Timeout: 30 * time.Second, Transport: upTr},
		Logger:                        zap.NewNop(),
		TrustedProxies:                []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		AuthFailuresPerMinute:         cfg.PerAddressBudget,
		UpstreamAuthFailuresPerMinute: cfg.GlobalBudget,
	})
	if err != nil {
		return rep, err
	}
	gwSrv, gwURL, err := serveLoopback(gw.Handler())
	if err != nil {
		return rep, err
	}
	defer gwSrv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.Concurrency + cfg.NormalCallers
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}

	get := func(path, login, password, from string) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, gwURL+path, nil)
		if err != nil {
			return 0, err
		}
		req.SetBasicAuth(login, password)
		req.Header.Set("X-Forwarded-For", from)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	normalAddr := func(i int) string { return "192.0.2." + strconv.Itoa(i%250+1) }
	// The normal callers log in once before the storm: Plesk accepts them.
	for i, a := range accounts {
		if st, err := get("/clients?limit=5", a.Login, a.Password, normalAddr(i)); err != nil || st != http.StatusOK {
			return rep, fmt.Errorf("warm-up of %s: status %d, %v", a.Login, st, err)
		}
	}
	packets0, failed0 := fc.packets.Load(), fc.failed.Load()

	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next atomic.Int64
	)
	sample := func(s string) {
		mu.Lock()
		if len(rep.Samples) < 10 {
			rep.Samples = append(rep.Samples, s)
		}
		mu.Unlock()
	}
	start := time.Now()
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= cfg.WrongPasswords || ctx.Err() != nil {
					return
				}
				from := "198.51.100." + strconv.Itoa(i%cfg.Addresses%250+1)
				if cfg.Addresses > 250 {
					from = fmt.Sprintf("198.18.%d.%d", i%cfg.Addresses/250, i%cfg.Addresses%250+1)
				}
				st, err := get("/clients?limit=5", "admin", "guess-"+strconv.Itoa(i), from)
				if err != nil {
					st = -1
				}
				mu.Lock()
				rep.StormAnswers[st]++
				mu.Unlock()
			}
		}()
	}
	for i, a := range accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			paths := []string{"/clients?limit=5", "/descriptors/limits", "/descriptors/permissions"}
			for j := 0; j < cfg.NormalRequests && ctx.Err() == nil; j++ {
				st, err := get(paths[j%len(paths)], a.Login, a.Password, normalAddr(i))
				atomic.AddInt64(&rep.NormalSent, 1)
				if err != nil || st < 200 || st > 299 {
					atomic.AddInt64(&rep.NormalErrors, 1)
					sample(fmt.Sprintf("normal caller %s %s: status %d %v", a.Login, paths[j%len(paths)], st, err))
				}
			}
		}()
	}
	wg.Wait()
	rep.Duration = time.Since(start)
	rep.PanelPackets = fc.packets.Load() - packets0
	rep.PanelFailedLogins = fc.failed.Load() - failed0
	// The budget's bucket holds GlobalBudget and refills at GlobalBudget a minute.
	rep.Allowed = int64(cfg.GlobalBudget) + int64(rep.Duration.Seconds()*float64(cfg.GlobalBudget)/60)
	return rep, ctx.Err()
}

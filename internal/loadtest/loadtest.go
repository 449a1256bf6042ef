// Package loadtest drives a gateway in front of a plesksim, both in process
// on loopback, with a bounded number of mixed requests, and checks the end
// state against a model of what every request should have done.
//
// Each worker owns a disjoint set of logins, so the model of a login is
// exact even at high concurrency: requests for one login are sequential,
// requests for different logins run concurrently. Every answer is checked
// against the model (status and fields), and at the end the simulator's
// clients are compared with the model: nothing lost, nothing doubled,
// nothing changed that should not have.
package loadtest

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/pleskgate/pleskgate/gateway"
	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

// Config bounds a run.
type Config struct {
	Requests        int           // total requests; default 100000
	Concurrency     int           // workers; default 64
	LoginsPerWorker int           // logins each worker owns; default 40
	MaxDuration     time.Duration // hard bound on the run; default 10m
	Seed            uint64        // 0 = random

	// Interruptions (0 = none). Disconnects is the fraction of creates
	// whose caller gives up mid-request: its context is cancelled at a
	// random point within 2×Latency, and the simulator adds Latency before
	// every packet, so the cancel often lands after the add was sent.
	// Timeouts is the fraction of add packets the simulator runs but whose
	// answer never comes back before the gateway's upstream timeout
	// (UpstreamTimeout, default 1.5s when Timeouts is set, else 30s). Each
	// interrupted create is retried with the same Idempotency-Key and body,
	// as a real client would, until it gets a final answer.
	Disconnects     float64
	Timeouts        float64
	Latency         time.Duration // default 20ms when Disconnects is set
	UpstreamTimeout time.Duration
}

// Report is what a run did.
type Report struct {
	Sent       int64
	Duration   time.Duration
	Throughput float64 // requests per second
	// ByOp counts answers by operation and status, expected or not.
	ByOp map[string]map[int]int64
	// Unexpected counts answers the model did not predict; Samples holds
	// the first few, with the reason.
	Unexpected int64
	Samples    []string
	Latency    struct{ P50, P90, P99, Max time.Duration }
	Final      Comparison
	Incomplete bool // MaxDuration ended the run before Requests were sent
	Interrupts Interrupts
}

// Interrupts counts what the interruptions did.
type Interrupts struct {
	Disconnects int64 // creates whose caller gave up mid-request
	Timeouts    int64 // add packets run by the simulator whose answer was withheld past the upstream timeout
	Retries     int64 // requests re-sent with the same key after an interruption
	Reconciled  int64 // answers marked Idempotent-Reconciled
}

// Comparison is the end state: the model against the simulator.
type Comparison struct {
	ModelClients, SimClients int
	Missing                  []string // in the model, not in the simulator (lost)
	Extra                    []string // in the simulator, not in the model (doubled or leaked)
	Mismatched               []string // present in both, with other fields or id
	Creates, Deletes         int64    // successful, per the answers
}

// OK reports whether the run met every expectation.
func (r Report) OK() bool {
	f := r.Final
	return r.Unexpected == 0 && !r.Incomplete && len(f.Missing) == 0 && len(f.Extra) == 0 && len(f.Mismatched) == 0 &&
		f.ModelClients == f.SimClients
}

// Print writes the report for people.
func (r Report) Print(w io.Writer) {
	fmt.Fprintf(w, "requests sent:     %d in %v (%.0f req/s)\n", r.Sent, r.Duration.Round(time.Millisecond), r.Throughput)
	fmt.Fprintf(w, "latency:           p50 %v  p90 %v  p99 %v  max %v\n", r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max)
	fmt.Fprintf(w, "unexpected:        %d\n", r.Unexpected)
	for _, s := range r.Samples {
		fmt.Fprintf(w, "  - %s\n", s)
	}
	ops := make([]string, 0, len(r.ByOp))
	for op := range r.ByOp {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	fmt.Fprintln(w, "answers by operation and status:")
	statusTotals := map[int]int64{}
	for _, op := range ops {
		var parts []string
		codes := make([]int, 0)
		for c := range r.ByOp[op] {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		for _, c := range codes {
			parts = append(parts, fmt.Sprintf("%d×%d", c, r.ByOp[op][c]))
			statusTotals[c] += r.ByOp[op][c]
		}
		fmt.Fprintf(w, "  %-22s %s\n", op, strings.Join(parts, "  "))
	}
	codes := make([]int, 0)
	for c := range statusTotals {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", c, statusTotals[c]))
	}
	fmt.Fprintf(w, "  %-22s %s\n", "all", strings.Join(parts, "  "))
	f := r.Final
	fmt.Fprintf(w, "final state:       model %d clients, simulator %d; creates %d, deletes %d; missing %d, extra %d, mismatched %d\n",
		f.ModelClients, f.SimClients, f.Creates, f.Deletes, len(f.Missing), len(f.Extra), len(f.Mismatched))
	for _, l := range [][]string{f.Missing, f.Extra, f.Mismatched} {
		for i, s := range l {
			if i == 5 {
				fmt.Fprintf(w, "  ... %d more\n", len(l)-5)
				break
			}
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
	if i := r.Interrupts; i != (Interrupts{}) {
		fmt.Fprintf(w, "interruptions:     %d disconnects, %d upstream timeouts injected; %d retries with the same key, %d answers reconciled\n",
			i.Disconnects, i.Timeouts, i.Retries, i.Reconciled)
	}
	fmt.Fprintf(w, "clients:           expected %d, found %d\n", f.ModelClients, f.SimClients)
	if r.Incomplete {
		fmt.Fprintln(w, "INCOMPLETE: the time bound ended the run")
	}
	if r.OK() {
		fmt.Fprintln(w, "result:            OK")
	} else {
		fmt.Fprintln(w, "result:            FAILED")
	}
}

// clientModel is what a login should look like.
type clientModel struct {
	exists  bool
	id      int64
	deadIDs []int64 // ids this login had before it was deleted
	fields  map[string]string
}

// lastCreate is a POST a worker may replay with its Idempotency-Key.
type lastCreate struct {
	key  string
	body []byte
	id   int64
}

// Run starts a simulator and a gateway on loopback and sends the requests.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Requests <= 0 {
		cfg.Requests = 100000
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	if cfg.LoginsPerWorker <= 0 {
		cfg.LoginsPerWorker = 40
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = 10 * time.Minute
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}
	password := randomHex(12)
	sim, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: password})
	if err != nil {
		return Report{}, err
	}
	upTimeout := cfg.UpstreamTimeout
	if upTimeout <= 0 {
		upTimeout = 30 * time.Second
		if cfg.Timeouts > 0 {
			upTimeout = 1500 * time.Millisecond
		}
	}
	if cfg.Disconnects > 0 && cfg.Latency <= 0 {
		cfg.Latency = 20 * time.Millisecond
	}
	if cfg.Latency > 0 {
		sim.SetFaults(plesksim.Faults{Latency: cfg.Latency})
	}
	front := &withholder{sim: sim, rate: cfg.Timeouts, rng: rand.New(rand.NewPCG(cfg.Seed, 1<<40))}
	simSrv, simURL, err := serveLoopback(front)
	if err != nil {
		return Report{}, err
	}
	defer simSrv.Close()
	upTr := http.DefaultTransport.(*http.Transport).Clone()
	upTr.MaxIdleConnsPerHost = cfg.Concurrency * 2
	upTr.MaxIdleConns = cfg.Concurrency * 4
	defer upTr.CloseIdleConnections()
	gw, err := gateway.New(gateway.Config{
		Upstream: upstream.Config{BaseURL: simURL, Timeout: upTimeout, Transport: upTr},
		// One identity makes every create here, far more than a caller's
		// default quota of live records (store.DefaultIdempotencyPerOwner).
		Idempotency: store.NewMemoryIdempotencyLimited(1<<20, 1<<20),
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return Report{}, err
	}
	gwSrv, gwURL, err := serveLoopback(gw.Handler())
	if err != nil {
		return Report{}, err
	}
	defer gwSrv.Close()

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.Concurrency * 2
	tr.MaxIdleConns = cfg.Concurrency * 4
	defer tr.CloseIdleConnections()
	r := &runner{
		base: gwURL, password: password, client: &http.Client{Transport: tr, Timeout: time.Minute},
		total: int64(cfg.Requests), byOp: map[string]map[int]int64{},
		disconnects: cfg.Disconnects, latency: cfg.Latency,
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.MaxDuration)
	defer cancel()

	models := make([]map[string]*clientModel, cfg.Concurrency)
	start := time.Now()
	var wg sync.WaitGroup
	lats := make([][]time.Duration, cfg.Concurrency)
	for w := 0; w < cfg.Concurrency; w++ {
		models[w] = map[string]*clientModel{}
		for i := 0; i < cfg.LoginsPerWorker; i++ {
			models[w][fmt.Sprintf("lt-w%02d-c%03d", w, i)] = &clientModel{}
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wk := &worker{r: r, id: w, model: models[w], rng: rand.New(rand.NewPCG(cfg.Seed, uint64(w)))}
			wk.logins = sortedLogins(wk.model)
			wk.run(ctx)
			lats[w] = wk.lat
		}(w)
	}
	wg.Wait()
	rep := Report{Sent: r.sent.Load(), Duration: time.Since(start), ByOp: r.byOp, Unexpected: r.unexpected.Load(), Samples: r.samples}
	rep.Throughput = float64(rep.Sent) / rep.Duration.Seconds()
	rep.Incomplete = rep.Sent < int64(cfg.Requests)
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	if n := len(all); n > 0 {
		rep.Latency.P50, rep.Latency.P90, rep.Latency.P99, rep.Latency.Max = all[n/2], all[n*9/10], all[n*99/100], all[n-1]
	}
	rep.Final = compare(models, sim.Clients())
	rep.Final.Creates, rep.Final.Deletes = r.creates.Load(), r.deletes.Load()
	rep.Interrupts = Interrupts{Disconnects: r.disconnected.Load(), Timeouts: front.withheld.Load(), Retries: r.retries.Load(), Reconciled: r.reconciled.Load()}
	return rep, nil
}

func sortedLogins(m map[string]*clientModel) []string {
	out := make([]string, 0, len(m))
	for l := range m {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// compare checks the simulator's clients against the models.
func compare(models []map[string]*clientModel, clients []plesksim.Client) Comparison {
	var c Comparison
	byLogin := map[string][]plesksim.Client{}
	for _, sc := range clients {
		byLogin[sc.Login] = append(byLogin[sc.Login], sc)
	}
	c.SimClients = len(clients)
	known := map[string]bool{}
	for _, m := range models {
		for login, cm := range m {
			known[login] = true
			got := byLogin[login]
			if !cm.exists {
				if len(got) > 0 {
					c.Extra = append(c.Extra, fmt.Sprintf("%s: deleted in the model, present in the simulator (id %d)", login, got[0].ID))
				}
				continue
			}
			c.ModelClients++
			switch {
			case len(got) == 0:
				c.Missing = append(c.Missing, fmt.Sprintf("%s (id %d)", login, cm.id))
			case len(got) > 1:
				c.Extra = append(c.Extra, fmt.Sprintf("%s: %d clients with this login", login, len(got)))
			default:
				if d := diff(cm, got[0]); d != "" {
					c.Mismatched = append(c.Mismatched, login+": "+d)
				}
			}
		}
	}
	for login := range byLogin {
		if !known[login] {
			c.Extra = append(c.Extra, login+": not made by this run")
		}
	}
	sort.Strings(c.Missing)
	sort.Strings(c.Extra)
	sort.Strings(c.Mismatched)
	return c
}

func diff(cm *clientModel, sc plesksim.Client) string {
	if int64(sc.ID) != cm.id {
		return fmt.Sprintf("id %d, model %d", sc.ID, cm.id)
	}
	got := map[string]string{"name": sc.Name, "email": sc.Email, "city": sc.City, "phone": sc.Phone, "company": sc.Company}
	for k, want := range cm.fields {
		if got[k] != want {
			return fmt.Sprintf("%s %q, model %q", k, got[k], want)
		}
	}
	return ""
}

// runner is the state the workers share.
type runner struct {
	base, password string
	client         *http.Client
	total          int64
	sent           atomic.Int64
	unexpected     atomic.Int64
	creates        atomic.Int64
	deletes        atomic.Int64
	mu             sync.Mutex
	byOp           map[string]map[int]int64
	samples        []string

	disconnects  float64       // Config.Disconnects
	latency      time.Duration // Config.Latency
	disconnected atomic.Int64
	retries      atomic.Int64
	reconciled   atomic.Int64
}

// withholder is the simulator's front: it runs every packet, and for a
// fraction rate of add packets withholds the answer until the gateway gives
// up (its upstream timeout): the client exists, and the gateway cannot know.
type withholder struct {
	sim      http.Handler
	rate     float64
	mu       sync.Mutex
	rng      *rand.Rand
	withheld atomic.Int64
}

func (h *withholder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.rate <= 0 {
		h.sim.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h.mu.Lock()
	hit := bytes.Contains(body, []byte("<add>")) && h.rng.Float64() < h.rate
	h.mu.Unlock()
	if !hit {
		h.sim.ServeHTTP(w, r)
		return
	}
	rec := &discardWriter{header: http.Header{}}
	h.sim.ServeHTTP(rec, r.WithContext(context.WithoutCancel(r.Context())))
	if rec.status == http.StatusOK {
		h.withheld.Add(1)
	}
	<-r.Context().Done() // the gateway's upstream timeout
}

// discardWriter keeps only the status of an answer.
type discardWriter struct {
	header http.Header
	status int
}

func (d *discardWriter) Header() http.Header { return d.header }
func (d *discardWriter) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}
func (d *discardWriter) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	return len(b), nil
}

func (r *runner) count(op string, status int) {
	r.mu.Lock()
	m := r.byOp[op]
	if m == nil {
		m = map[int]int64{}
		r.byOp[op] = m
	}
	m[status]++
	r.mu.Unlock()
}

func (r *runner) fail(format string, args ...any) {
	r.unexpected.Add(1)
	r.mu.Lock()
	if len(r.samples) < 10 {
		r.samples = append(r.samples, fmt.Sprintf(format, args...))
	}
	r.mu.Unlock()
}

// worker sends requests for the logins it owns, one after another.
type worker struct {
	r      *runner
	id     int
	model  map[string]*clientModel
	logins []string
	rng    *rand.Rand
	last   *lastCreate
	lat    []time.Duration
	seq    int
}

// apiClient is the part of a client answer the model checks.
type apiClient struct {
	ID      int64   `json:"id"`
	Login   string  `json:"login"`
	Name    string  `json:"name"`
	Email   *string `json:"email"`
	City    *string `json:"city"`
	Phone   *string `json:"phone"`
	Company *string `json:"company"`
}

func (a apiClient) fields() map[string]string {
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return map[string]string{"name": a.Name, "email": s(a.Email), "city": s(a.City), "phone": s(a.Phone), "company": s(a.Company)}
}

var errStop = errors.New("stop")

func (w *worker) run(ctx context.Context) {
	for ctx.Err() == nil {
		if w.r.sent.Add(1) > w.r.total {
			w.r.sent.Add(-1)
			return
		}
		if err := w.step(ctx); errors.Is(err, errStop) {
			return
		}
	}
}

// do sends one request and returns status and body.
func (w *worker) do(ctx context.Context, op, method, path string, body []byte, header ...string) (int, []byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, w.r.base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if body != nil {
		ct := "application/json"
		if method == http.MethodPatch {
			ct = "application/merge-patch+json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	req.SetBasicAuth("admin", w.r.password)
	start := time.Now()
	resp, err := w.r.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, nil, errStop
		}
		w.r.count(op, 0)
		w.r.fail("%s %s: %v", method, path, err)
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	w.lat = append(w.lat, time.Since(start))
	w.r.count(op, resp.StatusCode)
	if err != nil {
		w.r.fail("%s %s: reading the answer: %v", method, path, err)
		return 0, nil, nil, err
	}
	return resp.StatusCode, data, resp.Header, nil
}

// expect records an unexpected status and reports whether it matched.
func (w *worker) expect(method, path string, got, want int, body []byte) bool {
	if got != want {
		w.r.fail("%s %s: status %d, model expects %d: %.300s", method, path, got, want, body)
		return false
	}
	return true
}

// text returns a field value with XML metacharacters, as real data has.
func (w *worker) text(kind string) string {
	w.seq++
	return fmt.Sprintf("%s %d <&> 'ü' \"%d\"", kind, w.seq, w.rng.IntN(1000))
}

func (w *worker) step(ctx context.Context) error {
	login := w.logins[w.rng.IntN(len(w.logins))]
	m := w.model[login]
	switch n := w.rng.IntN(100); {
	case n < 22:
		return w.create(ctx, login, m)
	case n < 45:
		return w.get(ctx, login, m)
	case n < 63:
		return w.patch(ctx, login, m)
	case n < 73:
		return w.del(ctx, login, m)
	case n < 86:
		return w.list(ctx)
	case n < 95:
		return w.descriptors(ctx, m)
	case n < 97:
		return w.bulkDelete(ctx)
	default:
		return w.replay(ctx)
	}
}

func (w *worker) create(ctx context.Context, login string, m *clientModel) error {
	fields := map[string]string{"name": w.text("Name"), "email": login + "@example.com", "city": w.text("City"), "company": w.text("Co"), "phone": ""}
	body, _ := json.Marshal(map[string]string{"login": login, "password": "Pw-" + randomHex(6), "name": fields["name"],
		"email": fields["email"], "city": fields["city"], "company": fields["company"]})
	key := "lt-" + randomHex(8)
	status, data, err := w.createKeyed(ctx, login, body, key)
	if err != nil {
		return err
	}
	if m.exists {
		w.expect("POST", "/clients "+login, status, http.StatusConflict, data)
		return nil
	}
	if !w.expect("POST", "/clients "+login, status, http.StatusCreated, data) {
		return nil
	}
	var c apiClient
	if err := json.Unmarshal(data, &c); err != nil || c.Login != login || c.ID <= 0 {
		w.r.fail("POST /clients %s: answer %.300s", login, data)
		return nil
	}
	w.checkFields("POST /clients "+login, c, fields)
	m.exists, m.id, m.fields = true, c.ID, fields
	w.last = &lastCreate{key: key, body: body, id: c.ID}
	w.r.creates.Add(1)
	return nil
}

// createKeyed sends a create with its Idempotency-Key. Some callers give up
// mid-request (Config.Disconnects); an interrupted attempt (given up, or
// answered 5xx, or 409 while the first attempt still runs) is retried with
// the same key and body until a final answer comes, as a real client would.
// The final answer must be what the model expects of the first attempt:
// never a 409 "already exists" for a login the model says is free.
func (w *worker) createKeyed(ctx context.Context, login string, body []byte, key string) (int, []byte, error) {
	interrupted := false
	if w.r.disconnects > 0 && w.rng.Float64() < w.r.disconnects {
		cctx, cancel := context.WithCancel(ctx)
		t := time.AfterFunc(time.Duration(w.rng.Int64N(int64(2*w.r.latency)+1)), cancel)
		status, data, err := w.doQuiet(cctx, "createClient(interrupted)", body, key)
		t.Stop()
		cancel()
		if ctx.Err() != nil {
			return 0, nil, errStop
		}
		if err == nil {
			// The answer came before the cancel.
			if !retryable(status, data) {
				return status, data, nil
			}
		} else {
			w.r.disconnected.Add(1)
		}
		interrupted = true
	} else {
		status, data, _, err := w.do(ctx, "createClient", "POST", "/clients", body, "Idempotency-Key", key)
		if err != nil {
			return 0, nil, err
		}
		if !retryable(status, data) {
			return status, data, nil
		}
		interrupted = true
	}
	for attempt := 0; interrupted; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(min(attempt, 20)) * 5 * time.Millisecond)
		}
		if ctx.Err() != nil {
			return 0, nil, errStop
		}
		w.r.retries.Add(1)
		status, data, h, err := w.do(ctx, "createClient(retry)", "POST", "/clients", body, "Idempotency-Key", key)
		if err != nil {
			return 0, nil, err
		}
		if retryable(status, data) {
			continue
		}
		if h.Get("Idempotent-Reconciled") == "true" {
			w.r.reconciled.Add(1)
		}
		return status, data, nil
	}
	return 0, nil, errStop
}

// retryable: an answer after which a client retries with the same key: the
// first attempt still running (409 idempotency-in-flight), or a 5xx.
func retryable(status int, data []byte) bool {
	return status >= 500 || status == http.StatusConflict && bytes.Contains(data, []byte("idempotency-in-flight"))
}

// doQuiet is do for a request that may be cancelled on purpose: a
// cancellation is not a failure.
func (w *worker) doQuiet(ctx context.Context, op string, body []byte, key string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.r.base+"/clients", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	req.SetBasicAuth("admin", w.r.password)
	resp, err := w.r.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	w.r.count(op, resp.StatusCode)
	return resp.StatusCode, data, nil
}

func (w *worker) checkFields(what string, c apiClient, want map[string]string) {
	got := c.fields()
	for k, v := range want {
		if got[k] != v {
			w.r.fail("%s: %s %q, model %q", what, k, got[k], v)
			return
		}
	}
}

// deadID returns an id this login had before, for requests that must 404.
func (w *worker) deadID(m *clientModel) (int64, bool) {
	if len(m.deadIDs) == 0 {
		return 0, false
	}
	return m.deadIDs[w.rng.IntN(len(m.deadIDs))], true
}

func (w *worker) get(ctx context.Context, login string, m *clientModel) error {
	if !m.exists {
		id, ok := w.deadID(m)
		if !ok {
			return w.list(ctx)
		}
		path := "/clients/" + strconv.FormatInt(id, 10)
		status, data, _, err := w.do(ctx, "getClient", "GET", path, nil)
		if err == nil {
			w.expect("GET", path, status, http.StatusNotFound, data)
		}
		return err
	}
	path := "/clients/" + strconv.FormatInt(m.id, 10)
	status, data, _, err := w.do(ctx, "getClient", "GET", path, nil)
	if err != nil || !w.expect("GET", path, status, http.StatusOK, data) {
		return err
	}
	var c apiClient
	if err := json.Unmarshal(data, &c); err != nil || c.ID != m.id || c.Login != login {
		w.r.fail("GET %s: answer %.300s, model %s/%d", path, data, login, m.id)
		return nil
	}
	w.checkFields("GET "+path, c, m.fields)
	return nil
}

// targetPath is the client path a patch or delete aims at: the live client,
// or, for one the model says is gone, an id it used to have (expecting 404).
// false when there is none yet: the caller creates the client instead.
func (w *worker) targetPath(m *clientModel) (string, bool) {
	id := m.id
	if !m.exists {
		var ok bool
		if id, ok = w.deadID(m); !ok {
			return "", false
		}
	}
	return "/clients/" + strconv.FormatInt(id, 10), true
}

func (w *worker) patch(ctx context.Context, login string, m *clientModel) error {
	path, ok := w.targetPath(m)
	if !ok {
		return w.create(ctx, login, m)
	}
	change := map[string]any{}
	next := map[string]string{}
	switch w.rng.IntN(3) {
	case 0:
		next["city"] = w.text("City")
		next["phone"] = fmt.Sprintf("+1 555 %04d", w.rng.IntN(10000))
	case 1:
		next["company"] = w.text("Co")
		next["phone"] = ""
	default:
		next["name"] = w.text("Name")
	}
	for k, v := range next {
		if v == "" {
			change[k] = nil
		} else {
			change[k] = v
		}
	}
	body, _ := json.Marshal(change)
	status, data, _, err := w.do(ctx, "patchClient", "PATCH", path, body)
	if err != nil {
		return err
	}
	if !m.exists {
		w.expect("PATCH", path, status, http.StatusNotFound, data)
		return nil
	}
	if !w.expect("PATCH", path, status, http.StatusOK, data) {
		return nil
	}
	for k, v := range next {
		m.fields[k] = v
	}
	var c apiClient
	if err := json.Unmarshal(data, &c); err != nil || c.ID != m.id {
		w.r.fail("PATCH %s: answer %.300s", path, data)
		return nil
	}
	w.checkFields("PATCH "+path, c, m.fields)
	return nil
}

func (w *worker) del(ctx context.Context, login string, m *clientModel) error {
	path, ok := w.targetPath(m)
	if !ok {
		return w.create(ctx, login, m)
	}
	status, data, _, err := w.do(ctx, "deleteClient", "DELETE", path, nil)
	if err != nil {
		return err
	}
	if !m.exists {
		w.expect("DELETE", path, status, http.StatusNotFound, data)
		return nil
	}
	if w.expect("DELETE", path, status, http.StatusNoContent, data) {
		m.exists = false
		m.deadIDs = append(m.deadIDs, m.id)
		w.r.deletes.Add(1)
	}
	return nil
}

// pick returns k distinct logins of this worker.
func (w *worker) pick(k int) []string {
	idx := w.rng.Perm(len(w.logins))[:k]
	out := make([]string, k)
	for i, j := range idx {
		out[i] = w.logins[j]
	}
	sort.Strings(out)
	return out
}

func (w *worker) list(ctx context.Context) error {
	logins := w.pick(3)
	q := url.Values{"login": logins}
	path := "/clients?" + q.Encode()
	status, data, _, err := w.do(ctx, "listClients", "GET", path, nil)
	if err != nil || !w.expect("GET", path, status, http.StatusOK, data) {
		return err
	}
	var list struct{ Items []apiClient }
	if err := json.Unmarshal(data, &list); err != nil {
		w.r.fail("GET %s: %v", path, err)
		return nil
	}
	got := map[string]apiClient{}
	for _, it := range list.Items {
		got[it.Login] = it
	}
	for _, l := range logins {
		m := w.model[l]
		it, ok := got[l]
		switch {
		case m.exists && !ok:
			w.r.fail("GET %s: %s missing", path, l)
		case !m.exists && ok:
			w.r.fail("GET %s: deleted %s listed", path, l)
		case ok && it.ID != m.id:
			w.r.fail("GET %s: %s has id %d, model %d", path, l, it.ID, m.id)
		case ok:
			w.checkFields("GET "+path, it, m.fields)
		}
		delete(got, l)
	}
	if len(got) > 0 {
		w.r.fail("GET %s: %d clients not asked for", path, len(got))
	}
	return nil
}

func (w *worker) descriptors(ctx context.Context, m *clientModel) error {
	path := "/descriptors/limits"
	switch {
	case w.rng.IntN(2) == 0:
		path = "/descriptors/permissions"
	case m.exists && w.rng.IntN(2) == 0:
		path = "/clients/" + strconv.FormatInt(m.id, 10) + "/descriptors/permissions"
	}
	status, data, _, err := w.do(ctx, "descriptors", "GET", path, nil)
	if err == nil && w.expect("GET", path, status, http.StatusOK, data) && !bytes.Contains(data, []byte(`"properties"`)) {
		w.r.fail("GET %s: no properties: %.200s", path, data)
	}
	return err
}

func (w *worker) bulkDelete(ctx context.Context) error {
	logins := w.pick(2)
	path := "/clients?" + url.Values{"login": logins}.Encode()
	status, data, _, err := w.do(ctx, "deleteClients", "DELETE", path, nil)
	if err != nil || !w.expect("DELETE", path, status, http.StatusOK, data) {
		return err
	}
	var res struct {
		Results []struct {
			FilterValue string `json:"filter_value"`
			Status      string `json:"status"`
			ID          *int64 `json:"id"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		w.r.fail("DELETE %s: %v", path, err)
		return nil
	}
	seen := map[string]string{}
	for _, it := range res.Results {
		seen[it.FilterValue] = it.Status
	}
	for _, l := range logins {
		m := w.model[l]
		want := "error"
		if m.exists {
			want = "deleted"
		}
		if seen[l] != want {
			w.r.fail("DELETE %s: %s is %q, model expects %q: %.300s", path, l, seen[l], want, data)
			continue
		}
		if m.exists {
			m.exists = false
			m.deadIDs = append(m.deadIDs, m.id)
			w.r.deletes.Add(1)
		}
	}
	return nil
}

// replay re-sends the worker's last successful POST with its Idempotency-Key:
// the stored answer comes back and nothing is created twice.
func (w *worker) replay(ctx context.Context) error {
	if w.last == nil {
		return w.list(ctx)
	}
	status, data, h, err := w.do(ctx, "createClient(replay)", "POST", "/clients", w.last.body, "Idempotency-Key", w.last.key)
	if err != nil || !w.expect("POST", "/clients (replay)", status, http.StatusCreated, data) {
		return err
	}
	var c apiClient
	if err := json.Unmarshal(data, &c); err != nil || c.ID != w.last.id || h.Get("Idempotent-Replayed") != "true" {
		w.r.fail("POST /clients (replay): id %d (first %d), Idempotent-Replayed %q", c.ID, w.last.id, h.Get("Idempotent-Replayed"))
	}
	return nil
}

// serveLoopback serves h on 127.0.0.1 and returns the server and its URL.
func serveLoopback(h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, "http://" + ln.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

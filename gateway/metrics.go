package gateway

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are registered on an injected registry, never the global one.
type metrics struct {
	httpRequests    *prometheus.CounterVec
	httpDuration    *prometheus.HistogramVec
	inFlight        inFlightGauge
	upstreamPackets *prometheus.CounterVec
	upstreamLatency *prometheus.HistogramVec
	cacheRequests   *prometheus.CounterVec
	breakerState    prometheus.Gauge
	idempotency     *prometheus.CounterVec

	// Observers resolved once per label set: WithLabelValues hashes the
	// labels, formats the status and takes the vector's lock on every call.
	http     observerMemo[httpLabels, httpObservers]
	upstream observerMemo[upstreamLabels, httpObservers]
	cache    observerMemo[cacheOutcome, prometheus.Counter]
}

type httpLabels struct {
	op, method string
	status     int
}

type upstreamLabels struct {
	op, outcome string
	code        int
}

// httpObservers are a request counter and a duration histogram of one label set.
type httpObservers struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// observerMemoSize bounds each memo: label sets beyond it (a flood of odd
// methods, say) are resolved with WithLabelValues every time.
const observerMemoSize = 1024

// observerMemo maps a label set to its resolved observers. Reads take no
// lock: the map is replaced, never changed, when a label set is added.
type observerMemo[K comparable, V any] struct {
	m  atomic.Pointer[map[K]V]
	mu sync.Mutex
}

func (o *observerMemo[K, V]) get(k K, resolve func(K) V) V {
	if m := o.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	v := resolve(k)
	o.mu.Lock()
	defer o.mu.Unlock()
	old := o.m.Load()
	if old != nil && len(*old) >= observerMemoSize {
		return v
	}
	next := make(map[K]V, 1+lenOf(old))
	if old != nil {
		for key, val := range *old {
			next[key] = val
		}
	}
	next[k] = v
	o.m.Store(&next)
	return v
}

func lenOf[K comparable, V any](m *map[K]V) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pleskgate_http_requests_total",
			Help: "HTTP requests served, by OpenAPI operation id, method and status.",
		}, []string{"operation", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pleskgate_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by OpenAPI operation id and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation", "method"}),
		upstreamPackets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pleskgate_upstream_packets_total",
			Help: "Packets sent to Plesk, by operator/operation, outcome (ok, plesk_error, malformed, transport_error) and Plesk errcode (0 when none).",
		}, []string{"operation", "outcome", "errcode"}),
		upstreamLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pleskgate_upstream_request_duration_seconds",
			Help:    "Time Plesk took to answer a packet, by operator/operation.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
		cacheRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pleskgate_descriptor_cache_requests_total",
			Help: "Descriptor reads by cache outcome (hit, miss, collapsed, bypass).",
		}, []string{"outcome"}),
		breakerState: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pleskgate_upstream_circuit_breaker_state",
			Help: "State of the circuit breaker in front of Plesk: 0 closed, 1 half-open, 2 open.",
		}),
		idempotency: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pleskgate_idempotency_requests_total",
			Help: "POSTs carrying an Idempotency-Key, by outcome (new, replayed, conflict, mismatch, store_error).",
		}, []string{"outcome"}),
	}
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pleskgate_http_requests_in_flight",
		Help: "HTTP requests being served now.",
	}, func() float64 { return float64(m.inFlight.n.Load()) })
	reg.MustRegister(m.httpRequests, m.httpDuration, inFlight, m.upstreamPackets, m.upstreamLatency, m.cacheRequests, m.breakerState, m.idempotency)
	// Series appear on first use, as with WithLabelValues: resolve lazily.
	return m
}

// inFlightGauge counts requests being served: one atomic add each way,
// read when the gauge is collected (a prometheus.Gauge's Inc and Dec are
// compare-and-swap loops on a float).
type inFlightGauge struct{ n atomic.Int64 }

func (g *inFlightGauge) Inc() { g.n.Add(1) }
func (g *inFlightGauge) Dec() { g.n.Add(-1) }

func (m *metrics) observeHTTP(op, method string, status int, d time.Duration) {
	o := m.http.get(httpLabels{op, method, status}, func(l httpLabels) httpObservers {
		return httpObservers{
			count:    m.httpRequests.WithLabelValues(l.op, l.method, strconv.Itoa(l.status)),
			duration: m.httpDuration.WithLabelValues(l.op, l.method),
		}
	})
	o.count.Inc()
	o.duration.Observe(d.Seconds())
}

func (m *metrics) observeUpstream(op, outcome string, code int, d time.Duration) {
	o := m.upstream.get(upstreamLabels{op, outcome, code}, func(l upstreamLabels) httpObservers {
		return httpObservers{
			count:    m.upstreamPackets.WithLabelValues(l.op, l.outcome, strconv.Itoa(l.code)),
			duration: m.upstreamLatency.WithLabelValues(l.op),
		}
	})
	o.count.Inc()
	o.duration.Observe(d.Seconds())
}

// observeBreaker sets the breaker gauge: 0 closed, 1 half-open, 2 open.
func (m *metrics) observeBreaker(state string) {
	switch state {
	case "open":
		m.breakerState.Set(2)
	case "half-open":
		m.breakerState.Set(1)
	default:
		m.breakerState.Set(0)
	}
}

func (m *metrics) observeCache(o cacheOutcome) {
	m.cache.get(o, func(o cacheOutcome) prometheus.Counter { return m.cacheRequests.WithLabelValues(o.String()) }).Inc()
}

package gateway

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are registered on an injected registry, never the global one.
type metrics struct {
	httpRequests    *prometheus.CounterVec
	httpDuration    *prometheus.HistogramVec
	inFlight        prometheus.Gauge
	upstreamPackets *prometheus.CounterVec
	upstreamLatency *prometheus.HistogramVec
	cacheRequests   *prometheus.CounterVec
	breakerState    prometheus.Gauge
	admissionMetrics
	idempotency *prometheus.CounterVec
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
			Help: "Packets sent to Plesk, by operator/operation, outcome (ok, plesk_error, malformed, transport_error) and Plesk errcode (0 when none; a code outside PROTOCOL.md §9's list is \"other\").",
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
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pleskgate_http_requests_in_flight",
			Help: "HTTP requests being served now.",
		}),
		idempotency: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pleskgate_idempotency_requests_total",
			Help: "POSTs carrying an Idempotency-Key, by outcome (new, replayed, reconcile, conflict, mismatch, quota, store_full, store_error, not_recorded).",
		}, []string{"outcome"}),
	}
	m.admissionMetrics = newAdmissionMetrics(reg)
	reg.MustRegister(m.httpRequests, m.httpDuration, m.inFlight, m.upstreamPackets, m.upstreamLatency, m.cacheRequests, m.breakerState, m.idempotency)
	// Label values known in advance start at 0, so that a fresh gateway's
	// /metrics already has their series and a dashboard shows 0, not "No
	// data" (Prometheus's advice on missing metrics). Series keyed by
	// operation appear with the operation's first request.
	for o := cacheHit; o <= cacheBypass; o++ {
		m.cacheRequests.WithLabelValues(o.String())
	}
	for _, o := range idempotencyOutcomes {
		m.idempotency.WithLabelValues(o)
	}
	return m
}

// idempotencyOutcomes are the outcome label values of
// pleskgate_idempotency_requests_total (idempotency.go).
var idempotencyOutcomes = []string{"new", "replayed", "reconcile", "conflict", "mismatch", "quota", "store_full", "store_error", "not_recorded"}

func (m *metrics) observeHTTP(op, method string, status int, d time.Duration) {
	method = methodLabel(method)
	m.httpRequests.WithLabelValues(op, method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(op, method).Observe(d.Seconds())
}

// methodLabel is method when it is one of HTTP's own, else "other": a caller
// may send any token as a method, and each would be a new series.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

func (m *metrics) observeUpstream(op, outcome string, code int, d time.Duration) {
	m.upstreamPackets.WithLabelValues(op, outcome, errcodeLabel(code)).Inc()
	m.upstreamLatency.WithLabelValues(op).Observe(d.Seconds())
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
	m.cacheRequests.WithLabelValues(o.String()).Inc()
}

// knownErrcodes are the codes of Plesk's reduced list (PROTOCOL.md §9). A
// panel, or anything posing as one, may answer any number as a code: each
// would be a new series, so the others share the label value "other".
var knownErrcodes = map[int]string{}

func init() {
	for _, c := range []int{
		1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015,
		1017, 1018, 1019, 1023, 1024, 1025, 1026, 1027, 1029, 1030, 1031, 1032, 1033, 1050,
		11003, 14008, 14009,
	} {
		knownErrcodes[c] = strconv.Itoa(c)
	}
	knownErrcodes[0] = "0"
}

// errcodeLabel is the errcode label value for code: the code itself when
// it is 0 (none) or on PROTOCOL.md §9's list, else "other".
func errcodeLabel(code int) string {
	if l, ok := knownErrcodes[code]; ok {
		return l
	}
	return "other"
}

// admissionMetrics are the metrics of the upstream admission (upstream.Config's
// ObserveAdmission and ObserveShed, DESIGN.md §7).
type admissionMetrics struct {
	upstreamInFlight prometheus.Gauge
	upstreamQueued   prometheus.Gauge
	upstreamShed     prometheus.Counter
}

func newAdmissionMetrics(reg prometheus.Registerer) admissionMetrics {
	a := admissionMetrics{
		upstreamInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pleskgate_upstream_in_flight",
			Help: "Packets in flight to Plesk (admitted by the upstream admission).",
		}),
		upstreamQueued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pleskgate_upstream_queued",
			Help: "Requests waiting for an upstream slot.",
		}),
		upstreamShed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pleskgate_upstream_shed_total",
			Help: "Requests answered 503 upstream-busy: queue full or the wait past their deadline.",
		}),
	}
	reg.MustRegister(a.upstreamInFlight, a.upstreamQueued, a.upstreamShed)
	return a
}

func (a admissionMetrics) observeAdmission(inflight, queued int) {
	a.upstreamInFlight.Set(float64(inflight))
	a.upstreamQueued.Set(float64(queued))
}

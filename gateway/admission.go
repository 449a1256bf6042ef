package gateway

import "github.com/prometheus/client_golang/prometheus"

// admission holds the metrics of the upstream admission (upstream.Config's
// ObserveAdmission and ObserveShed, DESIGN.md §7).
type admission struct {
	upstreamInFlight prometheus.Gauge
	upstreamQueued   prometheus.Gauge
	upstreamShed     prometheus.Counter
}

func newAdmissionMetrics(reg prometheus.Registerer) admission {
	a := admission{
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

func (a admission) observeAdmission(inflight, queued int) {
	a.upstreamInFlight.Set(float64(inflight))
	a.upstreamQueued.Set(float64(queued))
}

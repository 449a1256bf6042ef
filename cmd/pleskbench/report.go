package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// goal is one target of docs/BENCHMARKS.md, judged from this run.
type goal struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	Got    string `json:"got"`
	Met    bool   `json:"met"`
	Note   string `json:"note,omitempty"`
}

func (r *report) scenario(key string) *scenario {
	for _, s := range r.Scenarios {
		if s.Key == key {
			return s
		}
	}
	return nil
}

// ratioDefs are the ratios reported: each is computed on the pooled passes
// and round by round (rounds of different scenarios with the same index ran
// back to back, under the same background load).
var ratioDefs = []struct {
	key, label string
	scen       string // scenarios needed
	lat        bool   // from the concurrency-1 rounds
	f          func(x map[string]*round) float64
}{
	{"cpu_per_req_labelled_a_over_c", "CPU/request (a)/(c), gateway vs proxy goroutines (pprof labels)", "ac", false,
		func(x map[string]*round) float64 { return x["a"].labelPer("gateway") / x["c"].labelPer("proxy") }},
	{"cpu_per_req_net_a_over_c", "CPU/request ((a)−(b))/((c)−(b)), net of the simulator", "abc", false,
		func(x map[string]*round) float64 {
			return (x["a"].cpuPer() - x["b"].cpuPer()) / (x["c"].cpuPer() - x["b"].cpuPer())
		}},
	{"cpu_per_req_a_over_c", "CPU/request (a)/(c), whole server process", "ac", false,
		func(x map[string]*round) float64 { return x["a"].cpuPer() / x["c"].cpuPer() }},
	{"throughput_d_over_e", "throughput (d)/(e)", "de", false,
		func(x map[string]*round) float64 { return x["d"].throughput() / x["e"].throughput() }},
	{"cpu_per_req_labelled_d_over_e", "CPU/request (d)/(e), gateway vs static goroutines (pprof labels)", "de", false,
		func(x map[string]*round) float64 {
			return x["d"].labelPer("legacy-gateway") / x["e"].labelPer("static")
		}},
	{"cpu_per_req_d_over_e", "CPU/request (d)/(e), whole server process", "de", false,
		func(x map[string]*round) float64 { return x["d"].cpuPer() / x["e"].cpuPer() }},
	{"p99_a_minus_b_ms", "p99 (a) − (b) at full concurrency, ms", "ab", false,
		func(x map[string]*round) float64 { return float64(x["a"].res.P99-x["b"].res.P99) / 1e6 }},
	{"p99_c1_a_minus_b_ms", "p99 (a) − (b) at concurrency 1, ms", "ab", true,
		func(x map[string]*round) float64 { return float64(x["a"].res.P99-x["b"].res.P99) / 1e6 }},
}

func computeRatios(r *report) {
	for _, d := range ratioDefs {
		var scs []*scenario
		for _, k := range d.scen {
			if sc := r.scenario(string(k)); sc != nil && (!d.lat || sc.Latency != nil) {
				scs = append(scs, sc)
			}
		}
		if len(scs) != len(d.scen) {
			continue
		}
		// Pooled: the pooled passes seen as one round each.
		pooled := map[string]*round{}
		for _, sc := range scs {
			p := sc.Load
			if d.lat {
				p = sc.Latency
			}
			pooled[sc.Key] = p.asRound()
		}
		r.Ratios[d.key] = d.f(pooled)
		var per []float64
		for i := 0; ; i++ {
			x := map[string]*round{}
			for _, sc := range scs {
				rs := sc.loadRounds
				if d.lat {
					rs = sc.latRounds
				}
				if i < len(rs) {
					x[sc.Key] = rs[i]
				}
			}
			if len(x) != len(scs) {
				break
			}
			per = append(per, d.f(x))
		}
		if len(per) > 0 {
			slices.Sort(per)
			med := per[len(per)/2]
			if len(per)%2 == 0 {
				med = (per[len(per)/2-1] + per[len(per)/2]) / 2
			}
			r.RatioRounds[d.key] = [3]float64{per[0], med, per[len(per)-1]}
		}
	}
}

// asRound presents a pooled pass to the ratio functions.
func (p *pass) asRound() *round {
	rd := &round{res: clientResult{Requests: p.Requests, Seconds: p.Seconds, P99: p.P99}, served: p.Served, cpu: p.ServerCPU, labels: map[string]int64{}}
	for k, v := range p.ByServer {
		rd.labels[k] = int64(v * 1000) // proportions are all labelPer needs
	}
	return rd
}

// robust is the median of the per-round values when there are rounds,
// else the pooled value: one round disturbed by the machine's other work
// does not decide a verdict.
func (r *report) robust(key string) float64 {
	if v, ok := r.RatioRounds[key]; ok {
		return v[1]
	}
	return r.Ratios[key]
}

func judge(r *report) []goal {
	var gs []goal
	if _, ok := r.Ratios["cpu_per_req_labelled_a_over_c"]; ok {
		lab, net, whole := r.robust("cpu_per_req_labelled_a_over_c"), r.robust("cpu_per_req_net_a_over_c"), r.robust("cpu_per_req_a_over_c")
		gs = append(gs, goal{Name: "gateway CPU/request vs reverse proxy", Target: "≤ 1.3×",
			Got:  fmt.Sprintf("%.2f× by pprof label (gateway vs proxy goroutines); %.2f× net of the simulator by subtraction; %.2f× whole process", lab, net, whole),
			Met:  lab <= 1.3 && net <= 1.3,
			Note: "medians over rounds; judged on the gateway's own CPU (label and subtraction): the whole-process ratio is diluted by the simulator both share"})
	}
	if _, ok := r.Ratios["throughput_d_over_e"]; ok {
		d := r.scenario("d")
		v := r.robust("throughput_d_over_e")
		capacity := 1 / r.robust("cpu_per_req_d_over_e")
		gs = append(gs, goal{Name: "cache-hit throughput vs static Echo handler", Target: "≥ 0.9×, 0 upstream packets",
			Got: fmt.Sprintf("measured %.2f×; capacity (1 / CPU-per-request ratio, whole process) %.2f×; %.3f packets/request",
				v, capacity, d.Load.PacketsPerReq),
			Met:  v >= 0.9 && capacity >= 0.9 && d.Load.PacketsPerReq == 0,
			Note: "medians over rounds; judged on both, because the load generator shares the CPUs and narrows measured throughput gaps, while the capacity ratio is what a server with the CPUs to itself would see"})
	}
	if len(r.Listing) > 0 {
		first, last := r.Listing[0], r.Listing[len(r.Listing)-1]
		per := func(ms float64, n int) float64 { return ms / float64(n) * 1000 } // µs per client
		walkFirst, walkLast := per(first.WalkCPUms, first.Clients), per(last.WalkCPUms, last.Clients)
		growth := walkLast / walkFirst
		heapRatio := float64(last.WalkHeapLive) / float64(last.WalkBytes)
		gs = append(gs, goal{Name: fmt.Sprintf("listing %d clients", last.Clients), Target: "linear in count; peak heap ≤ 3× response size",
			Got: fmt.Sprintf("whole walk CPU per client %.1f→%.1f µs (×%.2f, %d→%d clients, simulator included); walk peak heap %.2f MiB = %.2f× the whole listing's %.2f MiB; per page, not judged: first page %.1f×, later page %.1f× its %.0f KiB body",
				walkFirst, walkLast, growth, first.Clients, last.Clients, mibu(last.WalkHeapLive), heapRatio, mibf(last.WalkBytes),
				float64(last.FirstHeapLive)/float64(last.PageBytes), float64(last.LaterHeapLive)/float64(last.PageBytes), float64(last.PageBytes)/1024),
			Met:  growth < 1.5 && heapRatio <= 3,
			Note: "linear = the whole walk's CPU per client grows < 1.5× from the smallest to the largest listing; heap = growth over the live heap at GOGC=10 during the whole walk against a canned upstream, vs the sum of the pages' bodies"})
	}
	if r.Idle != nil {
		mib := float64(r.Idle.RSSWithKiB) / 1024
		gs = append(gs, goal{Name: fmt.Sprintf("RSS with %d idle connections", r.Idle.Conns), Target: "≤ 64 MiB",
			Got: fmt.Sprintf("%.1f MiB (+%.1f MiB, %.1f KiB/connection)", mib, float64(r.Idle.RSSWithKiB-r.Idle.RSSBeforeKiB)/1024, r.Idle.PerConnKiB),
			Met: mib <= 64, Note: "whole server process: the gateways, proxy, static handler and simulators share it"})
	}
	return gs
}

func printReport(w io.Writer, r *report, o options) {
	m := r.Machine
	fmt.Fprintf(w, "\n## pleskbench\n\n")
	fmt.Fprintf(w, "machine: %s CPUs (%s), GOMAXPROCS %s, %s; load average %s at start, %s at end; wall %s s; server VmHWM %s KiB\n",
		m["nproc"], m["cpu"], m["gomaxprocs"], m["go"], m["loadavg_start"], m["loadavg_end"], m["wall_s"], m["vmhwm_kib"])
	fmt.Fprintf(w, "load: closed loop in a child process; per scenario %s measured at concurrency %s and %s at concurrency 1, each in %s interleaved rounds after a %s warm-up; access log %s\n\n",
		m["duration"], m["concurrency"], m["latency_duration"], m["rounds"], m["warmup"], m["log"])
	if len(r.Scenarios) > 0 {
		fmt.Fprintln(w, "| | scenario | req/s | p50 ms | p99 ms | p50 ms c=1 | p99 ms c=1 | server CPU µs/req | client CPU µs/req | RSS MiB | upstream packets/req | body B | errors |")
		fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, s := range r.Scenarios {
			p := s.Load
			l50, l99 := "–", "–"
			if s.Latency != nil {
				l50, l99 = msf(s.Latency.P50), msf(s.Latency.P99)
			}
			pk := "–"
			if s.sim != nil {
				pk = fmt.Sprintf("%.3f", p.PacketsPerReq)
			}
			fmt.Fprintf(w, "| (%s) | %s | %.0f | %s | %s | %s | %s | %.1f | %.1f | %.1f | %s | %d | %d |\n",
				s.Key, s.Name, p.Throughput, msf(p.P50), msf(p.P99), l50, l99, p.ServerCPUPer, p.ClientCPUPer,
				float64(p.RSSKiB)/1024, pk, s.BodyBytes, p.Errors)
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, "server CPU µs/request by server (pprof label server=; \"other\" = unlabelled: GC workers, runtime):")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| | gateway | proxy | static | simulator | other |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
		for _, s := range r.Scenarios {
			b := s.Load.ByServer
			fmt.Fprintf(w, "| (%s) | %.1f | %.1f | %.1f | %.1f | %.1f |\n", s.Key, b["gateway"]+b["legacy-gateway"], b["proxy"], b["static"], b["sim"]+b["legacy-sim"], b[""])
		}
		fmt.Fprintln(w)
	}
	if len(r.Ratios) > 0 {
		fmt.Fprintln(w, "ratios (pooled; per round: min / median / max):")
		for _, d := range ratioDefs {
			if v, ok := r.Ratios[d.key]; ok {
				rr := r.RatioRounds[d.key]
				fmt.Fprintf(w, "  %-66s %8.3f   (%.3f / %.3f / %.3f)\n", d.label, v, rr[0], rr[1], rr[2])
			}
		}
		fmt.Fprintln(w)
	}
	if len(r.Listing) > 0 {
		fmt.Fprintf(w, "GET /clients?limit=%d (first page: the selection's ids, then the page's records by id; later pages: ids from the first page's snapshot):\n\n", o.pageSize)
		fmt.Fprintln(w, "| clients | all with gen_info, MiB | ids-only answer KiB | ids packet, sim alone, ms (CPU ms) | first page ms (CPU ms) | packets | later page ms (CPU ms) | packets | page KiB | whole walk ms (CPU ms) | walk CPU µs/client | pages | walk MiB | walk upstream packets | walk upstream MiB | canned upstream: first page ms (CPU ms) | later page ms (CPU ms) |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, l := range r.Listing {
			fmt.Fprintf(w, "| %d | %.2f | %.0f | %.1f (%.1f) | %.1f (%.1f) | %.1f | %.1f (%.1f) | %.1f | %.0f | %.1f (%.1f) | %.1f | %d | %.2f | %d | %.2f | %.1f (%.1f) | %.1f (%.1f) |\n",
				l.Clients, mibf(l.UpstreamXML), float64(l.IDsXML)/1024, l.SimIDsMs, l.SimIDsCPUms,
				l.FirstPageMs, l.FirstPageCPUms, l.FirstPagePackets, l.LaterPageMs, l.LaterPageCPUms, l.LaterPagePackets, float64(l.PageBytes)/1024,
				l.WalkMs, l.WalkCPUms, l.WalkCPUms/float64(l.Clients)*1000, l.WalkPages, mibf(l.WalkBytes), l.WalkPackets, float64(l.WalkUpstreamB)/(1<<20),
				l.ReplayFirstMs, l.ReplayFirstCPUms, l.ReplayLaterMs, l.ReplayLaterCPUms)
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, "peak heap, growth over the live heap, against the canned upstream (gateway alone):")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| clients | first page MiB, GOGC=10 (× page body) | first page MiB, default GOGC | allocated MiB, first page | later page MiB, GOGC=10 (× page body) | whole walk MiB, GOGC=10 (× whole listing) | largest single page in the walk MiB, GOGC=10 | allocated MiB, whole walk |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, l := range r.Listing {
			pb := float64(l.PageBytes)
			fmt.Fprintf(w, "| %d | %.2f (%.1f×) | %.2f | %.1f | %.2f (%.1f×) | %.2f (%.2f×) | %.2f | %.1f |\n",
				l.Clients, mibu(l.FirstHeapLive), float64(l.FirstHeapLive)/pb, mibu(l.FirstHeapPeak), mibu(l.FirstAlloc),
				mibu(l.LaterHeapLive), float64(l.LaterHeapLive)/pb, mibu(l.WalkHeapLive), float64(l.WalkHeapLive)/float64(l.WalkBytes),
				mibu(l.WalkPageMax), mibu(l.WalkAlloc))
		}
		fmt.Fprintln(w)
	}
	if i := r.Idle; i != nil {
		fmt.Fprintf(w, "idle keep-alive connections: %d open of %d; server RSS %.1f MiB → %.1f MiB (+%.1f KiB/connection, +%d goroutines)\n\n",
			i.Open, i.Conns, float64(i.RSSBeforeKiB)/1024, float64(i.RSSWithKiB)/1024, i.PerConnKiB, i.GoroutinesAdd)
	}
	if len(r.Goals) > 0 {
		fmt.Fprintln(w, "goals:")
		for _, g := range r.Goals {
			verdict := "NOT MET"
			if g.Met {
				verdict = "met"
			}
			fmt.Fprintf(w, "  [%s] %s (target %s): %s", verdict, g.Name, g.Target, g.Got)
			if g.Note != "" {
				fmt.Fprintf(w, " — %s", g.Note)
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w, strings.Repeat("-", 20))
}

func msf(ns int64) string   { return fmt.Sprintf("%.3f", float64(ns)/1e6) }
func mibf(b int) float64    { return float64(b) / (1 << 20) }
func mibu(b uint64) float64 { return float64(b) / (1 << 20) }

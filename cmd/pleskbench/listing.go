package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pleskgate/pleskgate/plesksim"
	"github.com/pleskgate/pleskgate/translator"
)

// listRow is GET /clients?limit=page over n clients. The gateway pages in
// two steps: the selection's ids (a get with an empty dataset), then the
// page's records (a get by the page's ids); later pages take their ids from
// the first page's snapshot.
type listRow struct {
	Clients     int     `json:"clients"`
	UpstreamXML int     `json:"upstream_xml_bytes"` // the whole selection with gen_info: what every page read before paging by id
	IDsXML      int     `json:"ids_xml_bytes"`      // the ids-only answer a first page reads
	SimIDsMs    float64 `json:"sim_ids_ms"`         // that packet straight to plesksim (in process), median of 3
	SimIDsCPUms float64 `json:"sim_ids_cpu_ms"`

	FirstPageMs      float64 `json:"first_page_ms"` // via the gateway and plesksim, median of 3
	FirstPageCPUms   float64 `json:"first_page_cpu_ms"`
	FirstPagePackets float64 `json:"first_page_packets"`
	LaterPageMs      float64 `json:"later_page_ms"` // the second page, its snapshot present, median of 3
	LaterPageCPUms   float64 `json:"later_page_cpu_ms"`
	LaterPagePackets float64 `json:"later_page_packets"`
	PageBytes        int     `json:"page_bytes"`

	WalkMs        float64 `json:"walk_ms"` // every page, following Link rel="next"
	WalkCPUms     float64 `json:"walk_cpu_ms"`
	WalkPages     int     `json:"walk_pages"`
	WalkBytes     int     `json:"walk_bytes"` // the whole listing's response bodies
	WalkPackets   int64   `json:"walk_upstream_packets"`
	WalkUpstreamB int64   `json:"walk_upstream_bytes"` // packets sent plus answers

	ReplayFirstMs    float64 `json:"replay_first_page_ms"` // canned upstream: the gateway alone, median of 3
	ReplayFirstCPUms float64 `json:"replay_first_page_cpu_ms"`
	ReplayLaterMs    float64 `json:"replay_later_page_ms"`
	ReplayLaterCPUms float64 `json:"replay_later_page_cpu_ms"`

	// Heap against the canned upstream: peak growth over the live heap.
	FirstHeapLive  uint64 `json:"first_page_heap_peak_gogc10"`
	FirstHeapPeak  uint64 `json:"first_page_heap_peak"` // default GOGC
	FirstAlloc     uint64 `json:"first_page_alloc_bytes"`
	LaterHeapLive  uint64 `json:"later_page_heap_peak_gogc10"`
	WalkHeapLive   uint64 `json:"walk_heap_peak_gogc10"`     // over the whole walk, from its start
	WalkPageMax    uint64 `json:"walk_max_page_heap_gogc10"` // largest growth of one page over the live heap before it
	WalkAlloc      uint64 `json:"walk_alloc_bytes"`
	ReplayPackets  int64  `json:"replay_walk_packets"`
	ReplayByIDMiss int64  `json:"replay_unknown_ids"` // ids the canned upstream did not hold (must be 0)
}

func runListing(o options, basic string) ([]listRow, error) {
	sim, err := plesksim.New(plesksim.Config{Protocol: "1.6.9.1", AdminLogin: adminLogin, AdminPassword: adminPassword})
	if err != nil {
		return nil, err
	}
	counter := &byteCounter{h: sim}
	simSrv, err := serve("list-sim", counter)
	if err != nil {
		return nil, err
	}
	defer simSrv.close()
	gw, err := newGateway("list-gateway", simSrv.url, "", o.logMode)
	if err != nil {
		return nil, err
	}
	defer gw.close()
	rp := &replay{}
	replaySrv, err := serve("replay", rp)
	if err != nil {
		return nil, err
	}
	defer replaySrv.close()
	v := newestVersion(sim)
	replayGw, err := newGateway("replay-gateway", replaySrv.url, v.String(), o.logMode)
	if err != nil {
		return nil, err
	}
	defer replayGw.close()
	fullPacket, err := translator.EncodeRequest(v, &translator.GetRequest{GenInfo: true})
	if err != nil {
		return nil, err
	}
	idsPacket, err := translator.EncodeRequest(v, &translator.GetRequest{})
	if err != nil {
		return nil, err
	}
	headers := []string{basic}
	first := fmt.Sprintf("/clients?limit=%d", o.pageSize)
	// Protocol discovery (server/get_protos) happens once, here, not in the
	// first measured page.
	if _, _, err := getPage(gw.url+"/clients?limit=1", headers); err != nil {
		return nil, err
	}

	var rows []listRow
	for _, n := range []int{o.listClients / 10, o.listClients / 2, o.listClients} {
		if n <= 0 {
			continue
		}
		progress("listing: seeding %d clients", n)
		if err := seed(sim, n); err != nil {
			return nil, err
		}
		row := listRow{Clients: n}
		full, err := simPacket(sim, fullPacket)
		if err != nil {
			return nil, err
		}
		row.UpstreamXML = len(full)
		// Wall time and this process's CPU time of each step; medians of 3.
		// CPU time is the steadier figure on a shared machine.
		var idsBody []byte
		row.SimIDsMs, row.SimIDsCPUms, err = median3(func() error {
			var err error
			idsBody, err = simPacket(sim, idsPacket)
			return err
		})
		if err != nil {
			return nil, err
		}
		row.IDsXML = len(idsBody)
		c, err := newCanned(sim, v, idsBody)
		if err != nil {
			return nil, err
		}
		rp.c.Store(c)

		progress("listing: %d clients, pages of %d", n, o.pageSize)
		var next string
		p0 := sim.Stats().Requests
		row.FirstPageMs, row.FirstPageCPUms, err = median3(func() error {
			var err error
			row.PageBytes, next, err = getPage(gw.url+first, headers)
			return err
		})
		if err != nil {
			return nil, err
		}
		row.FirstPagePackets = float64(sim.Stats().Requests-p0) / 3
		if next != "" {
			p0 = sim.Stats().Requests
			row.LaterPageMs, row.LaterPageCPUms, err = median3(func() error {
				_, _, err := getPage(gw.url+next, headers)
				return err
			})
			if err != nil {
				return nil, err
			}
			row.LaterPagePackets = float64(sim.Stats().Requests-p0) / 3
		}

		p0, in0, out0 := sim.Stats().Requests, counter.in.Load(), counter.out.Load()
		t0, cpu0 := time.Now(), processCPU()
		pages, total, err := walk(gw.url, first, headers, nil)
		if err != nil {
			return nil, err
		}
		row.WalkMs, row.WalkCPUms, row.WalkPages, row.WalkBytes = ms(time.Since(t0)), (processCPU()-cpu0)*1000, pages, total
		row.WalkPackets = sim.Stats().Requests - p0
		row.WalkUpstreamB = counter.in.Load() - in0 + counter.out.Load() - out0
		if pages*o.pageSize < n {
			return nil, fmt.Errorf("walk saw %d pages for %d clients", pages, n)
		}

		// The gateway alone, against the canned upstream.
		var replayNext string
		row.ReplayFirstMs, row.ReplayFirstCPUms, err = median3(func() error {
			var err error
			_, replayNext, err = getPage(replayGw.url+first, headers)
			return err
		})
		if err != nil {
			return nil, err
		}
		if replayNext != "" {
			row.ReplayLaterMs, row.ReplayLaterCPUms, err = median3(func() error {
				_, _, err := getPage(replayGw.url+replayNext, headers)
				return err
			})
			if err != nil {
				return nil, err
			}
		}

		// Heap, against the canned upstream: the simulator's buffers are not in it.
		h := startHeapPeak()
		if _, _, err := getPage(replayGw.url+first, headers); err != nil {
			return nil, err
		}
		row.FirstHeapPeak, row.FirstAlloc = h.end()
		old := debug.SetGCPercent(10)
		err = func() error {
			defer debug.SetGCPercent(old)
			h := startHeapPeak()
			if _, _, err := getPage(replayGw.url+first, headers); err != nil {
				return err
			}
			row.FirstHeapLive, _ = h.end()
			if replayNext != "" {
				h = startHeapPeak()
				if _, _, err := getPage(replayGw.url+replayNext, headers); err != nil {
					return err
				}
				row.LaterHeapLive, _ = h.end()
			}
			r0 := rp.packets.Load()
			h = startHeapPeak()
			if _, _, err := walk(replayGw.url, first, headers, nil); err != nil {
				return err
			}
			row.WalkHeapLive, row.WalkAlloc = h.end()
			row.ReplayPackets = rp.packets.Load() - r0
			var err error
			row.WalkPageMax, err = walkPeak(replayGw.url, first, headers)
			return err
		}()
		if err != nil {
			return nil, err
		}
		row.ReplayByIDMiss = rp.unknown.Load()
		if row.ReplayByIDMiss != 0 {
			return nil, fmt.Errorf("the canned upstream was asked for %d ids it does not hold", row.ReplayByIDMiss)
		}
		if o.profileDir != "" && n == o.listClients {
			runtime.GC()
			f, err := os.Create(filepath.Join(o.profileDir, "heap-listing.pprof"))
			if err != nil {
				return nil, err
			}
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// getPage GETs one page, counts its body without keeping it and returns the
// Link rel="next" target ("" on the last page).
func getPage(url string, headers []string) (int, string, error) {
	st, h, n, err := doDiscard(url, headers)
	if err == nil && st != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d", url, st)
	}
	if err != nil {
		return 0, "", err
	}
	next, err := nextLink(h.Get("Link"))
	return n, next, err
}

func nextLink(link string) (string, error) {
	if link == "" {
		return "", nil
	}
	i, j := strings.Index(link, "<"), strings.Index(link, ">")
	if i < 0 || j < i || !strings.Contains(link[j:], `rel="next"`) {
		return "", fmt.Errorf("unexpected Link header %q", link)
	}
	return link[i+1 : j], nil
}

// median3 runs f three times and returns the median wall time and the
// median CPU time of this process, in milliseconds.
func median3(f func() error) (wallMs, cpuMs float64, err error) {
	var walls, cpus []float64
	for range 3 {
		t0, c0 := time.Now(), processCPU()
		if err := f(); err != nil {
			return 0, 0, err
		}
		walls = append(walls, ms(time.Since(t0)))
		cpus = append(cpus, (processCPU()-c0)*1000)
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	return walls[1], cpus[1], nil
}

// walk GETs every page from first on, following the Link rel="next" header;
// bodies are counted and discarded so that this process holds no copy of
// them. onPage runs after each page.
func walk(base, first string, headers []string, onPage func()) (pages, total int, err error) {
	target := first
	for target != "" {
		n, next, err := getPage(base+target, headers)
		if err != nil {
			return pages, total, err
		}
		pages++
		total += n
		if onPage != nil {
			onPage()
		}
		target = next
	}
	return pages, total, nil
}

// doDiscard GETs url and counts the body without keeping it.
func doDiscard(url string, headers []string) (int, http.Header, int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, 0, err
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header[strings.TrimSpace(k)] = []string{strings.TrimSpace(v)}
	}
	resp, err := localClient.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header, int(n), err
}

// walkPeak walks every page and returns the largest growth of one page over
// the live heap measured just before it.
func walkPeak(base, first string, headers []string) (uint64, error) {
	var peak uint64
	h := startHeapPeak()
	_, _, err := walk(base, first, headers, func() {
		g, _ := h.end()
		peak = max(peak, g)
		h = startHeapPeak()
	})
	h.end()
	return peak, err
}

// byteCounter counts the bytes of the packets a handler receives and of
// its answers.
type byteCounter struct {
	h       http.Handler
	in, out atomic.Int64
}

func (c *byteCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > 0 {
		c.in.Add(r.ContentLength)
	}
	c.h.ServeHTTP(countingWriter{w, &c.out}, r)
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n.Add(int64(n))
	return n, err
}

// replay is a canned upstream holding the simulator's answers, so that the
// heap measured in the listing holds the gateway's work, not the
// simulator's. It routes by packet content: a get with an empty dataset
// gets the captured ids-only answer; a get by ids gets exactly those
// clients' captured results, written from slices it holds (no copy).
type replay struct {
	c                atomic.Pointer[canned]
	packets, unknown atomic.Int64
}

type canned struct {
	ids        []byte         // the ids-only answer
	head, tail []byte         // the by-id answer around its results
	byID       map[int][]byte // each client's <result>…</result>
}

// newCanned captures sim's answer to a get by every id it holds, with
// gen_info, and splits it into results.
func newCanned(sim *plesksim.Server, v translator.Version, idsBody []byte) (*canned, error) {
	var ids []int
	for _, c := range sim.Clients() {
		ids = append(ids, c.ID)
	}
	pkt, err := translator.EncodeRequest(v, &translator.GetRequest{Filter: translator.ByID(ids...), GenInfo: true})
	if err != nil {
		return nil, err
	}
	body, err := simPacket(sim, pkt)
	if err != nil {
		return nil, err
	}
	c := &canned{ids: idsBody, byID: make(map[int][]byte, len(ids))}
	open, end := []byte("<result>"), []byte("</result>")
	i := bytes.Index(body, open)
	if i < 0 {
		return nil, fmt.Errorf("no result in %.300s", body)
	}
	c.head = body[:i]
	for {
		j := bytes.Index(body[i:], end)
		if j < 0 {
			return nil, fmt.Errorf("unterminated result")
		}
		res := body[i : i+j+len(end)]
		id, ok := elementInt(res, "id")
		if !ok || !bytes.Contains(res, []byte("<status>ok</status>")) {
			return nil, fmt.Errorf("unexpected result %.300s", res)
		}
		c.byID[id] = res
		i += j + len(end)
		k := bytes.Index(body[i:], open)
		if k < 0 {
			c.tail = body[i:]
			break
		}
		i += k
	}
	if len(c.byID) != len(ids) {
		return nil, fmt.Errorf("captured %d results for %d clients", len(c.byID), len(ids))
	}
	return c, nil
}

// elementInt returns the integer content of the first <name> in b.
func elementInt(b []byte, name string) (int, bool) {
	open := "<" + name + ">"
	i := bytes.Index(b, []byte(open))
	if i < 0 {
		return 0, false
	}
	b = b[i+len(open):]
	j := bytes.IndexByte(b, '<')
	if j < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(b[:j])))
	return n, err == nil
}

func (r *replay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.packets.Add(1)
	pkt, _ := io.ReadAll(req.Body)
	c := r.c.Load()
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	if bytes.Contains(pkt, []byte("<dataset></dataset>")) || bytes.Contains(pkt, []byte("<dataset/>")) {
		w.Header().Set("Content-Length", strconv.Itoa(len(c.ids)))
		_, _ = w.Write(c.ids)
		return
	}
	f := pkt
	if i := bytes.Index(f, []byte("<filter>")); i >= 0 {
		f = f[i:]
	}
	if j := bytes.Index(f, []byte("</filter>")); j >= 0 {
		f = f[:j]
	}
	var parts [][]byte
	size := len(c.head) + len(c.tail)
	for {
		i := bytes.Index(f, []byte("<id>"))
		if i < 0 {
			break
		}
		f = f[i:]
		id, ok := elementInt(f, "id")
		f = f[len("<id>"):]
		res, found := c.byID[id]
		if !ok || !found {
			r.unknown.Add(1)
			continue
		}
		parts = append(parts, res)
		size += len(res)
	}
	w.Header().Set("Content-Length", strconv.Itoa(size))
	_, _ = w.Write(c.head)
	for _, p := range parts {
		_, _ = w.Write(p)
	}
	_, _ = w.Write(c.tail)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

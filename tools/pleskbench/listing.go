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
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pleskgate/pleskgate/plesksim"
	"github.com/pleskgate/pleskgate/translator"
)

// listRow is a walk of GET /clients?limit=page over n clients, every page
// followed through Link rel="next", against a canned upstream (replay) that
// holds the simulator's answers: the heap measured is the gateway's work,
// not the simulator's.
type listRow struct {
	Clients       int    `json:"clients"`
	WalkPages     int    `json:"walk_pages"`
	WalkBytes     int    `json:"walk_bytes"`                // the whole listing's response bodies
	WalkHeapLive  uint64 `json:"walk_heap_peak_gogc10"`     // peak growth over the live heap during the whole walk
	WalkAlloc     uint64 `json:"walk_alloc_bytes"`          // allocated during the walk
	ReplayPackets int64  `json:"replay_walk_packets"`       // upstream packets of the walk
	ReplayMissing int64  `json:"replay_unknown_ids"`        // ids the canned upstream did not hold (must be 0)
	UpstreamXML   int    `json:"upstream_ids_answer_bytes"` // the ids-only answer of the first page
}

func runListing(o options, basic string) (*listRow, error) {
	n := o.listClients
	sim, err := plesksim.New(plesksim.Config{Protocol: "1.6.9.1", AdminLogin: adminLogin, AdminPassword: adminPassword})
	if err != nil {
		return nil, err
	}
	v := newestVersion(sim)
	progress("listing: seeding %d clients", n)
	if err := seed(sim, n); err != nil {
		return nil, err
	}
	idsPacket, err := translator.EncodeRequest(v, &translator.GetRequest{})
	if err != nil {
		return nil, err
	}
	idsBody, err := simPacket(sim, idsPacket)
	if err != nil {
		return nil, err
	}
	c, err := newCanned(sim, v, idsBody)
	if err != nil {
		return nil, err
	}
	rp := &replay{}
	rp.c.Store(c)
	replaySrv, err := serve("replay", rp)
	if err != nil {
		return nil, err
	}
	defer replaySrv.close()
	// The protocol is fixed: no server/get_protos in the walk.
	gw, err := newGateway("list-gateway", replaySrv.url, v.String(), o.logMode)
	if err != nil {
		return nil, err
	}
	defer gw.close()

	headers := []string{basic}
	first := fmt.Sprintf("/clients?limit=%d", o.pageSize)
	row := &listRow{Clients: n, UpstreamXML: len(idsBody)}
	progress("listing: walk of %d clients, pages of %d", n, o.pageSize)
	// One walk unmeasured (connections, pools), then the measured one.
	if _, _, err := walk(gw.url, first, headers); err != nil {
		return nil, err
	}
	old := debug.SetGCPercent(10)
	r0 := rp.packets.Load()
	h := startHeapPeak()
	row.WalkPages, row.WalkBytes, err = walk(gw.url, first, headers)
	row.WalkHeapLive, row.WalkAlloc = h.end()
	debug.SetGCPercent(old)
	if err != nil {
		return nil, err
	}
	row.ReplayPackets = rp.packets.Load() - r0
	if row.WalkPages*o.pageSize < n {
		return nil, fmt.Errorf("walk saw %d pages for %d clients", row.WalkPages, n)
	}
	if row.ReplayMissing = rp.unknown.Load(); row.ReplayMissing != 0 {
		return nil, fmt.Errorf("the canned upstream was asked for %d ids it does not hold", row.ReplayMissing)
	}
	if o.profileDir != "" {
		runtime.GC()
		f, err := os.Create(filepath.Join(o.profileDir, "heap-listing.pprof"))
		if err != nil {
			return nil, err
		}
		_ = pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
	}
	return row, nil
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

// walk GETs every page from first on, following the Link rel="next" header;
// bodies are counted and discarded so that this process holds no copy of
// them.
func walk(base, first string, headers []string) (pages, total int, err error) {
	target := first
	for target != "" {
		n, next, err := getPage(base+target, headers)
		if err != nil {
			return pages, total, err
		}
		pages++
		total += n
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

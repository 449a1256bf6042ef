package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pleskgate/pleskgate/plesksim"
)

// pleskbench -biganswers -gateway BIN: issue 26 medium 7, a hostile or
// intercepted panel. A fake panel answers every GET /clients/{id}'s packet
// with -answer-bytes of valid XML: with -shape results, the client asked
// for followed by as many other clients as fit (what a get by owner or of
// everything looks like; the gateway decodes them all); with -shape text,
// the one client with a company name of that many bytes. -answers GETs of
// distinct clients are sent at once, and the gateway process's peak RSS
// (VmHWM, and the largest VmRSS sampled every 10 ms) is reported (goal for
// 3 × 50 MB: ≤ 200 MiB). Then, on a fresh gateway, one answer of
// -nested-bytes made of elements nested inside each other inside the
// client's gen_info (2 million for 14 MB): the goal is 502, never a 200
// with the nested content dropped. It asserts nothing.
func runBigAnswers(args []string) error {
	fs := flag.NewFlagSet("pleskbench -biganswers", flag.ContinueOnError)
	fs.Bool("biganswers", true, "run the big-answer flood")
	bin := fs.String("gateway", "bin/pleskgate", "pleskgate binary to start")
	answers := fs.Int("answers", 3, "GETs at once, each answered with -answer-bytes")
	size := fs.Int("answer-bytes", 50_000_000, "bytes of each answer")
	shape := fs.String("shape", "results", "results (many clients) or text (one client, one huge field)")
	withLength := fs.Bool("content-length", false, "send Content-Length (default: chunked, so the gateway cannot know the size before reading)")
	nested := fs.Int("nested-bytes", 14_000_000, "bytes of the nested answer (7 per element: <a></a>); 0 skips it")
	timeout := fs.Duration("timeout", 55*time.Second, "how long each GET waits for its answer")
	var env stringList
	fs.Var(&env, "env", "NAME=VALUE added to the gateway's environment (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *shape != "results" && *shape != "text" {
		return fmt.Errorf("-shape %q: want results or text", *shape)
	}
	load0 := loadAvg()
	big := newBigAnswer(*shape, *size)
	r, err := answerFlood(*bin, env, *answers, *withLength, *timeout, func(id int) []byte { return big.forID(id) })
	if err != nil {
		return err
	}
	framing := "chunked"
	if *withLength {
		framing = "with Content-Length"
	}
	fmt.Printf("big answers: %d GETs at once, each answered %d bytes (%s, %s, %d results), against %s (pid %d)%s\n",
		*answers, big.size(), *shape, framing, big.results, *bin, r.pid, envNote(env))
	fmt.Printf("  load average %s → %s\n", load0, loadAvg())
	fmt.Printf("  RSS idle %.1f MiB, peak sampled %.1f MiB, VmHWM %.1f MiB\n", mib(r.idle), mib(r.peak), mib(r.hwm))
	fmt.Printf("  answers: %s in %.1fs; the panel got %d packets\n", r.seen.String(), r.took.Seconds(), r.panelRequestsGot)

	if *nested > 0 {
		depth := *nested / 7
		n, err := answerFlood(*bin, env, 1, *withLength, *timeout, func(id int) []byte { return nestedAnswer(id, depth) })
		if err != nil {
			return err
		}
		fmt.Printf("nested answer: %d bytes, %d elements nested inside the client's gen_info, against %s (pid %d)\n", len(nestedAnswer(1, depth)), depth, *bin, n.pid)
		fmt.Printf("  answer: %s in %.1fs; RSS peak sampled %.1f MiB, VmHWM %.1f MiB\n", n.seen.String(), n.took.Seconds(), mib(n.peak), mib(n.hwm))
	}
	return nil
}

type floodResult struct {
	pid              int
	idle, peak, hwm  int64 // KiB
	seen             tally
	took             time.Duration
	panelRequestsGot int64
}

// answerFlood serves a fake panel answering answer(id) to every get by id
// (plesksim answers the rest, such as the gateway's start-up get_protos),
// starts the gateway in front of it and sends n GETs of clients 1…n at once.
func answerFlood(bin string, env []string, n int, withLength bool, timeout time.Duration, answer func(id int) []byte) (*floodResult, error) {
	res := &floodResult{}
	sim, err := plesksim.New(plesksim.Config{AdminLogin: adminLogin, AdminPassword: adminPassword})
	if err != nil {
		return nil, err
	}
	var got atomic.Int64
	panel, err := serve("panel", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		packet, _ := io.ReadAll(r.Body)
		m := filterID.FindSubmatch(packet)
		if m == nil { // the gateway's start-up get_protos: an honest answer
			r.Body = io.NopCloser(bytes.NewReader(packet))
			sim.ServeHTTP(w, r)
			return
		}
		id, _ := strconv.Atoi(string(m[1]))
		body := answer(id)
		w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
		if withLength {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		for len(body) > 0 {
			k := min(len(body), 64<<10)
			if _, err := w.Write(body[:k]); err != nil {
				return
			}
			body = body[k:]
		}
	}))
	if err != nil {
		return nil, err
	}
	defer panel.close()
	g, err := panelGateway(bin, panel.url, env...)
	if err != nil {
		return nil, err
	}
	defer g.stop()
	res.pid = g.pid()
	res.idle = statusKB(res.pid, "VmRSS")
	stop := startRSSPeak(res.pid)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(adminLogin+":"+adminPassword))
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	var wg sync.WaitGroup
	t0 := time.Now()
	for id := 1; id <= n; id++ {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/clients/%d", g.addr, id), nil)
			req.Header.Set("Authorization", auth)
			resp, err := hc.Do(req)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			res.seen.add(outcome(resp, err))
		})
	}
	wg.Wait()
	res.took = time.Since(t0)
	res.peak = stop()
	res.hwm = statusKB(res.pid, "VmHWM")
	res.panelRequestsGot = got.Load()
	return res, nil
}

var filterID = regexp.MustCompile(`<filter><id>(\d+)</id></filter>`)

// bigAnswer is a get answer of about the size asked for, built once: the
// client asked for first, then (shape results) clients 1000000, 1000001, …
// or (shape text) nothing more, its company name holding the bytes.
type bigAnswer struct {
	shape   string
	fill    int    // text: bytes of the company name
	rest    []byte // results: the results after the first
	results int
}

const (
	answerHead = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<packet version="1.6.9.1"><customer><get>`
	answerTail = `</get></customer></packet>`
	// answerResult is plesksim's answer for one client (%[1]d its id, %[2]s
	// its company).
	answerResult = `<result><status>ok</status><filter-id>%[1]d</filter-id><id>%[1]d</id><data><gen_info><cr_date>2026-12-07</cr_date>` +
		`<cname>%[2]s</cname><pname>Bench Client %[1]d</pname><login>bench%06[1]d</login><status>0</status><phone/><fax/>` +
		`<email>bench%06[1]d@example.com</email><address/><city>Springfield</city><state/><pcode/><country>US</country><locale>en-US</locale>` +
		`<guid>be5dc914-7802-4bfa-bdcf-59818a811e10</guid><owner-login>admin</owner-login><vendor-guid>92e5e88d-b561-4280-8c7f-753fcf3d3812</vendor-guid>` +
		`<external-id/><password>$5$8vShSe2dsa2bjpbW$JYkn33CFAk4qMbOL0gtLZpHsvR1GvVCvy2K2wZgmcq7</password><password_type>crypt</password_type>` +
		`<description/></gen_info></data></result>`
)

func newBigAnswer(shape string, size int) *bigAnswer {
	b := &bigAnswer{shape: shape, results: 1}
	fixed := len(answerHead) + len(answerTail) + len(fmt.Sprintf(answerResult, 1, "Bench & Sons Ltd."))
	if shape == "text" {
		b.fill = max(0, size-fixed+len("Bench & Sons Ltd."))
		return b
	}
	var rest bytes.Buffer
	for id := 1_000_000; fixed+rest.Len() < size; id++ {
		fmt.Fprintf(&rest, answerResult, id, "Bench &amp; Sons Ltd.")
		b.results++
	}
	b.rest = rest.Bytes()
	return b
}

// forID is the answer with id as its first client.
func (b *bigAnswer) forID(id int) []byte {
	company := "Bench &amp; Sons Ltd."
	if b.shape == "text" {
		company = strings.Repeat("x", b.fill)
	}
	first := fmt.Sprintf(answerResult, id, company)
	out := make([]byte, 0, len(answerHead)+len(first)+len(b.rest)+len(answerTail))
	out = append(out, answerHead...)
	out = append(out, first...)
	out = append(out, b.rest...)
	return append(out, answerTail...)
}

func (b *bigAnswer) size() int { return len(b.forID(1)) }

// nestedAnswer is the answer for client id with depth elements nested
// inside each other in its gen_info: <a><a>…</a></a>.
func nestedAnswer(id, depth int) []byte {
	var b bytes.Buffer
	b.Grow(7*depth + 512)
	fmt.Fprintf(&b, "%s<result><status>ok</status><filter-id>%[2]d</filter-id><id>%[2]d</id><data><gen_info><pname>Nested</pname><login>nested%06[2]d</login>", answerHead, id)
	for range depth {
		b.WriteString("<a>")
	}
	for range depth {
		b.WriteString("</a>")
	}
	b.WriteString("</gen_info></data></result>" + answerTail)
	return b.Bytes()
}

func envNote(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return " with " + strings.Join(env, " ")
}

package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestOversizeBodyReaches413ClientWritingFirst: a client that writes a
// 2 MiB body (the limit is 1 MiB) before it reads receives the 413 problem,
// not a reset, with Content-Length and with chunked encoding; the panel sees
// no packet.
func TestOversizeBodyReaches413ClientWritingFirst(t *testing.T) {
	h := newHarness(t)
	addr := serveLimited(t, h)
	body := bytes.Repeat([]byte("x"), 2<<20)
	before := h.sim.Stats().Requests

	head := "POST /clients HTTP/1.1\r\nHost: gw\r\n" + basicHeader("admin", adminPass) +
		"Content-Type: application/json\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n"
	resp, data, err := rawExchange(t, addr, head, body)
	if err != nil {
		t.Fatalf("Content-Length body: %v", err)
	}
	checkTooLarge(t, resp, data)

	// Chunked: the limit is found while the validator reads.
	var chunked bytes.Buffer
	for off := 0; off < len(body); off += 64 << 10 {
		fmt.Fprintf(&chunked, "%x\r\n%s\r\n", 64<<10, body[off:off+64<<10])
	}
	chunked.WriteString("0\r\n\r\n")
	head = "POST /clients HTTP/1.1\r\nHost: gw\r\n" + basicHeader("admin", adminPass) +
		"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
	resp, data, err = rawExchange(t, addr, head, chunked.Bytes())
	if err != nil {
		t.Fatalf("chunked body: %v", err)
	}
	checkTooLarge(t, resp, data)
	if n := h.sim.Stats().Requests - before; n != 0 {
		t.Fatalf("%d packets reached the panel", n)
	}
}

func checkTooLarge(t *testing.T, resp *http.Response, data []byte) {
	t.Helper()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	var p Problem
	if err := json.Unmarshal(data, &p); err != nil || p.Status != 413 || !strings.HasSuffix(p.Type, "/too-large") {
		t.Fatalf("problem %s (%v)", data, err)
	}
}

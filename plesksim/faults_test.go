package plesksim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// realPost sends a packet over a real connection.
func realPost(ctx context.Context, url, body string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+AgentPath, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("HTTP_AUTH_LOGIN", "admin")
	req.Header.Set("HTTP_AUTH_PASSWD", "setup")
	// A fresh transport per call: a closed connection must not be reused.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestFaults(t *testing.T) {
	s := newSim(t, Config{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	ctx := context.Background()
	n := 0
	add := func() string {
		n++
		return pk("1.6.9.1", addOp(fmt.Sprintf("f%d", n)))
	}

	s.SetFaults(Faults{Kind: FaultHTTP500})
	resp, _, err := realPost(ctx, ts.URL, add())
	if err != nil || resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("http500: %v %v", resp, err)
	}
	if len(s.Clients()) != 0 {
		t.Fatal("http500 executed the packet")
	}

	s.SetFaults(Faults{Kind: FaultDrop})
	if _, _, err := realPost(ctx, ts.URL, add()); err == nil {
		t.Fatal("drop: no error")
	}
	if len(s.Clients()) != 0 {
		t.Fatal("drop executed the packet")
	}

	s.SetFaults(Faults{Kind: FaultMalformed})
	resp, body, err := realPost(ctx, ts.URL, add())
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("malformed: %v %v", resp, err)
	}
	if _, perr := parseTree(body); perr == nil {
		t.Fatalf("malformed answer parses: %s", body)
	}
	if len(s.Clients()) != 1 {
		t.Fatal("malformed: packet not executed")
	}

	s.SetFaults(Faults{Kind: FaultTruncated})
	resp, body, err = realPost(ctx, ts.URL, add())
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("truncated: %v %v", resp, err)
	}
	if _, perr := parseTree(body); perr == nil || !strings.HasPrefix(string(body), "<?xml") {
		t.Fatalf("truncated answer: %s", body)
	}

	s.SetFaults(Faults{Kind: FaultReset})
	resp, _, err = realPost(ctx, ts.URL, add())
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reset: want unexpected EOF reading the body, got %v", err)
	}
	if resp == nil || resp.StatusCode != 200 {
		t.Fatal("reset: headers not sent")
	}
	if len(s.Clients()) != 3 {
		t.Fatalf("reset/truncated: %d clients", len(s.Clients()))
	}

	// Rate: a deterministic random source picks which requests fail.
	s.mu.Lock()
	rolls := []float64{0.1, 0.9, 0.2, 0.8}
	s.randSrc = func() float64 { r := rolls[0]; rolls = rolls[1:]; return r }
	s.mu.Unlock()
	s.SetFaults(Faults{Kind: FaultHTTP500, Rate: 0.5})
	var codes []int
	for range 4 {
		resp, _, err := realPost(ctx, ts.URL, pk("1.6.9.1", `<get><filter/><dataset/></get>`))
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, resp.StatusCode)
	}
	if fmt.Sprint(codes) != "[500 200 500 200]" {
		t.Fatalf("rate 0.5 codes %v", codes)
	}

	// Latency honours cancellation.
	s.SetFaults(Faults{Latency: 5 * time.Second})
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, err := realPost(cctx, ts.URL, add()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("latency: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("latency ignored cancellation")
	}
	s.SetFaults(Faults{Latency: 50 * time.Millisecond})
	start = time.Now()
	if resp, _, err := realPost(ctx, ts.URL, pk("1.6.9.1", `<get><filter/><dataset/></get>`)); err != nil || resp.StatusCode != 200 {
		t.Fatal(err)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("latency not applied")
	}

	// Invalid fault kinds are ignored by SetFaults.
	s.SetFaults(Faults{Kind: "explode"})
	if resp, _, err := realPost(ctx, ts.URL, pk("1.6.9.1", `<get><filter/><dataset/></get>`)); err != nil || resp.StatusCode != 200 {
		t.Fatal("invalid kind not ignored")
	}
	s.SetFaults(Faults{})
	if st := s.Stats(); st.Requests < 12 {
		t.Fatalf("requests %d", st.Requests)
	}
	// Close waits for running handlers: the cancelled one must be gone.
	start = time.Now()
	ts.Close()
	if time.Since(start) > 2*time.Second {
		t.Fatal("the handler kept sleeping after the client cancelled")
	}
}

func TestConcurrentAdds(t *testing.T) {
	s := newSim(t, Config{Resellers: []Account{{"res1", "rpass"}}})
	ts := httptest.NewServer(s)
	defer ts.Close()
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	okSame, okDistinct := 0, 0
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, body, err := realPost(context.Background(), ts.URL, pk("1.6.9.1", addOp(fmt.Sprintf("user%02d", i))))
			if err != nil {
				errs <- err
				return
			}
			if strings.Contains(string(body), "<status>ok</status>") {
				mu.Lock()
				okDistinct++
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			_, body, err := realPost(context.Background(), ts.URL, pk("1.6.9.1", addOp("same")))
			if err != nil {
				errs <- err
				return
			}
			switch {
			case strings.Contains(string(body), "<status>ok</status>"):
				mu.Lock()
				okSame++
				mu.Unlock()
			case !strings.Contains(string(body), "<errcode>1007</errcode>"):
				errs <- fmt.Errorf("unexpected answer %s", body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if okSame != 1 || okDistinct != n {
		t.Fatalf("same login succeeded %d times, distinct %d/%d", okSame, okDistinct, n)
	}
	cs := s.Clients()
	if len(cs) != n+1 {
		t.Fatalf("%d clients", len(cs))
	}
	seen := map[int]bool{}
	guids := map[string]bool{}
	for i, c := range cs {
		if seen[c.ID] || guids[c.GUID] || (i > 0 && c.ID <= cs[i-1].ID) {
			t.Fatalf("ids/guids not unique and increasing: %+v", c)
		}
		seen[c.ID], guids[c.GUID] = true, true
	}
	if st := s.Stats(); st.Requests != 2*n || st.Operations["customer/add"] != 2*n {
		t.Fatalf("stats %+v", st)
	}
}

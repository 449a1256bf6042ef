package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestIdempotencyPerCallerSetting: PLESKGATE_IDEMPOTENCY_PER_CALLER reaches
// the store: with 2, a caller's third keyed POST is 429 idempotency-quota
// and creates nothing, while its first two replay.
func TestIdempotencyPerCallerSetting(t *testing.T) {
	var out bytes.Buffer
	c, err := parseConfig(nil, env(nil), &out)
	if err != nil || c.IdempotencyPerCaller != 1000 {
		t.Fatalf("default %d %v", c.IdempotencyPerCaller, err)
	}
	if _, err := parseConfig(nil, env(map[string]string{"PLESKGATE_IDEMPOTENCY_PER_CALLER": "0"}), &out); err == nil {
		t.Fatal("0 accepted")
	}

	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var log syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, env(map[string]string{"PLESKGATE_LISTEN": addr, "PLESKGATE_SANDBOX_PASSWORD": "sandbox-pw",
			"PLESKGATE_LOG_LEVEL": "error", "PLESKGATE_IDEMPOTENCY_PER_CALLER": "2"}), &log)
	}()
	defer func() {
		cancel()
		<-done
	}()
	base := "http://" + addr
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sandbox did not start:\n%s", log.String())
		}
	}
	post := func(key, login string) (int, string) {
		body := fmt.Sprintf(`{"name":"Quota %s","login":%q,"password":"Quota-Passw0rd-%s"}`, login, login, login)
		req, _ := http.NewRequest("POST", base+"/clients", strings.NewReader(body))
		req.SetBasicAuth("admin", "sandbox-pw")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for i := range 2 {
		if code, body := post(fmt.Sprint("k", i), fmt.Sprint("quota", i)); code != http.StatusCreated {
			t.Fatalf("create %d: %d %s", i, code, body)
		}
	}
	if code, body := post("k2", "quota2"); code != http.StatusTooManyRequests || !strings.Contains(body, "idempotency-quota") {
		t.Fatalf("third keyed create: %d %s", code, body)
	}
	req, _ := http.NewRequest("GET", base+"/clients?login=quota2", nil)
	req.SetBasicAuth("admin", "sandbox-pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(b), `"quota2"`) {
		t.Fatalf("the refused create reached Plesk: %s", b)
	}
}

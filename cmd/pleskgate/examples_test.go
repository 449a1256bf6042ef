package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/pleskgate/pleskgate"
)

// The requests Swagger UI pre-fills from openapi.yaml work on a fresh
// sandbox, as a newcomer clicks them: POST /clients with its first (default)
// example, GET /clients/{id} with the path example, PATCH with the first
// patch example and the ETag as If-Match, PUT …/owner with its example. Every
// createClient example works on the same sandbox (no login the sandbox seeds,
// none shared between two examples), and none sets an Idempotency-Key.
func TestSpecExamplesWorkOnAFreshSandbox(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(pleskgate.OpenAPIYAML, &doc); err != nil {
		t.Fatal(err)
	}
	call := sandboxCaller(t, startSandboxForTest(t, "examples-Pass-1"), "examples-Pass-1")

	// POST /clients: every example, the default (first) one first.
	examples := at(t, &doc, "paths", "/clients", "post", "requestBody", "content", "application/json", "examples")
	var created []float64
	for i := 0; i+1 < len(examples.Content); i += 2 {
		name := examples.Content[i].Value
		value := decode(t, at(t, examples.Content[i+1], "value"))
		st, _, got := call("POST", "/clients", value, "Content-Type", "application/json")
		if st != http.StatusCreated {
			t.Fatalf("POST /clients with example %q: %d %v", name, st, got)
		}
		created = append(created, got["id"].(float64))
	}
	if len(created) < 2 {
		t.Fatalf("createClient has %d examples", len(created))
	}

	// No fixed Idempotency-Key, If-Match or If-None-Match value to pre-fill.
	for _, p := range []string{"IdempotencyKey", "IfMatch", "IfNoneMatch"} {
		param := at(t, &doc, "components", "parameters", p)
		if child(param, "example") != nil || child(param, "examples") != nil {
			t.Errorf("parameter %s has a fixed example value", p)
		}
		if d := child(param, "description"); d == nil || len(d.Value) < 40 {
			t.Errorf("parameter %s needs a description", p)
		}
	}

	// GET /clients/{id} with the path example, then PATCH it with If-Match.
	id := at(t, &doc, "components", "parameters", "ClientId", "example").Value
	st, h, got := call("GET", "/clients/"+id, nil)
	if st != http.StatusOK || h.Get("ETag") == "" {
		t.Fatalf("GET /clients/%s (the ClientId example): %d %v", id, st, got)
	}
	patches := at(t, &doc, "paths", "/clients/{id}", "patch", "requestBody", "content", "application/merge-patch+json", "examples")
	patch := decode(t, at(t, patches.Content[1], "value"))
	st, _, got = call("PATCH", "/clients/"+id, patch, "Content-Type", "application/merge-patch+json", "If-Match", h.Get("ETag"))
	if st != http.StatusOK {
		t.Fatalf("PATCH /clients/%s with example %q and If-Match: %d %v", id, patches.Content[0].Value, st, got)
	}

	// PUT …/owner with its example, on a client the first example created.
	owner := decode(t, at(t, &doc, "paths", "/clients/{id}/owner", "put", "requestBody", "content", "application/json", "example"))
	st, _, got = call("PUT", fmt.Sprintf("/clients/%d/owner", int64(created[0])), owner, "Content-Type", "application/json")
	if st != http.StatusOK {
		t.Fatalf("PUT /clients/%d/owner with its example: %d %v", int64(created[0]), st, got)
	}
}

// sandboxCaller sends requests to the sandbox at base as admin and returns
// the status, the headers and the JSON body of each answer.
func sandboxCaller(t *testing.T, base, password string) func(method, path string, body any, header ...string) (int, http.Header, map[string]any) {
	return func(method, path string, body any, header ...string) (int, http.Header, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.SetBasicAuth("admin", password)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return resp.StatusCode, resp.Header, m
	}
}

// The bulk endpoints answer 200 whatever happens to each item, so their
// defaults are checked item by item: createClientsBatch's default example
// on a fresh sandbox creates its two new logins and reports the demo
// client's login as taken (201, 201, 409), and again 409 for every item
// the second time, as its description says; deleteClients' default filter
// (login=bulkdeleteme) deletes that demo client, and the second time
// reports the item as an error with 404.
func TestBulkExamplesItemByItemOnAFreshSandbox(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(pleskgate.OpenAPIYAML, &doc); err != nil {
		t.Fatal(err)
	}
	call := sandboxCaller(t, startSandboxForTest(t, "examples-Pass-1"), "examples-Pass-1")

	examples := at(t, &doc, "paths", "/clients/batch", "post", "requestBody", "content", "application/json", "examples")
	batch := decode(t, at(t, examples.Content[1], "value"))
	for run, want := range [][]int{{201, 201, 409}, {409, 409, 409}} {
		st, _, got := call("POST", "/clients/batch", batch, "Content-Type", "application/json")
		results, _ := got["results"].([]any)
		var statuses []int
		for _, r := range results {
			item, _ := r.(map[string]any)
			status, _ := item["status"].(float64)
			statuses = append(statuses, int(status))
		}
		if st != http.StatusOK || fmt.Sprint(statuses) != fmt.Sprint(want) {
			t.Fatalf("POST /clients/batch with example %q, run %d: %d, item statuses %v, want 200 and %v: %v", examples.Content[0].Value, run+1, st, statuses, want, got)
		}
	}

	var logins []string
	if err := at(t, &doc, "components", "parameters", "FilterLoginBulkDelete", "example").Decode(&logins); err != nil || len(logins) != 1 {
		t.Fatalf("FilterLoginBulkDelete's example: %v %v", logins, err)
	}
	for run, want := range []struct {
		status      string
		errorStatus float64
	}{{"deleted", 0}, {"error", http.StatusNotFound}} {
		st, _, got := call("DELETE", "/clients?login="+logins[0], nil)
		results, _ := got["results"].([]any)
		if st != http.StatusOK || len(results) != 1 {
			t.Fatalf("DELETE /clients?login=%s, run %d: %d %v", logins[0], run+1, st, got)
		}
		item, _ := results[0].(map[string]any)
		problem, _ := item["error"].(map[string]any)
		if item["status"] != want.status || item["filter_value"] != logins[0] || (want.errorStatus != 0 && problem["status"] != want.errorStatus) {
			t.Fatalf("DELETE /clients?login=%s, run %d: item %v, want status %q", logins[0], run+1, item, want.status)
		}
	}
}

// startSandboxForTest runs the gateway as `make run` does (no upstream: the
// sandbox) on a free port until the test ends.
func startSandboxForTest(t *testing.T, password string) string {
	t.Helper()
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out syncBuffer
	go func() {
		done <- run(ctx, nil, env(map[string]string{"PLESKGATE_LISTEN": addr, "PLESKGATE_SANDBOX_PASSWORD": password, "PLESKGATE_LOG_LEVEL": "error"}), &out)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway: %v", err)
		}
	})
	base := "http://" + addr
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return base
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("sandbox did not start: %v\n%s", err, out.String())
		}
	}
}

// at follows mapping keys from n and fails the test when one is missing.
func at(t *testing.T, n *yaml.Node, keys ...string) *yaml.Node {
	t.Helper()
	if n.Kind == yaml.DocumentNode {
		n = n.Content[0]
	}
	for i, k := range keys {
		if n = child(n, k); n == nil {
			t.Fatalf("openapi.yaml has no %s", strings.Join(keys[:i+1], " → "))
		}
	}
	return n
}

func child(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func decode(t *testing.T, n *yaml.Node) any {
	t.Helper()
	var v any
	if err := n.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/pleskgate/pleskgate/client"
	"github.com/pleskgate/pleskgate/gateway"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

const adminPassword = "client-test-pw-1"

// sandbox starts a plesksim with its demo clients and a gateway in front,
// as `make run` does, and returns a client logged in as the administrator.
func sandbox(t *testing.T) *client.ClientWithResponses {
	t.Helper()
	sim, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: adminPassword, DemoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	gw, err := gateway.New(gateway.Config{Upstream: upstream.Config{BaseURL: simSrv.URL, Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(srv.Close)
	c, err := client.NewClientWithResponses(srv.URL, client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.SetBasicAuth("admin", adminPassword)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func must(t *testing.T, resp *http.Response, body []byte, err error) {
	t.Helper()
	if err == nil {
		err = client.CheckResponse(resp, body)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// The generated client drives a sandbox through a client's life: create,
// get, merge patch under If-Match, page through the listing, delete, and
// the 404 that follows comes back as a *client.ProblemError.
func TestClientDrivesSandbox(t *testing.T) {
	ctx := context.Background()
	c := sandbox(t)

	email, password := "jroe@example.com", "Go-client-Passw0rd!"
	created, err := c.CreateClientWithResponse(ctx, nil, client.ClientCreate{Login: "jroe-go", Name: "Jane Roe", Email: &email, Password: &password})
	must(t, created.HTTPResponse, created.Body, err)
	if created.StatusCode() != http.StatusCreated || created.JSON201 == nil || created.JSON201.Login != "jroe-go" {
		t.Fatalf("create: %d %s", created.StatusCode(), created.Body)
	}
	id := created.JSON201.Id

	got, err := c.GetClientWithResponse(ctx, id, nil)
	must(t, got.HTTPResponse, got.Body, err)
	etag := got.HTTPResponse.Header.Get("ETag")
	if got.JSON200 == nil || got.JSON200.Name != "Jane Roe" || etag == "" {
		t.Fatalf("get: %s (ETag %q)", got.Body, etag)
	}

	// A stale ETag is refused with 412; the current one lets the patch through.
	stale := `"not-the-etag"`
	patch := client.ClientPatch{Name: nullable.NewNullableWithValue("Jane Q. Roe"), City: nullable.NewNullableWithValue("Springfield")}
	refused, err := c.PatchClientWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, id, &client.PatchClientParams{IfMatch: &stale}, patch)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.CheckResponse(refused.HTTPResponse, refused.Body); !errors.Is(err, client.ErrPreconditionFailed) {
		t.Fatalf("patch with a stale ETag: %v, want 412", err)
	}
	patched, err := c.PatchClientWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, id, &client.PatchClientParams{IfMatch: &etag}, patch)
	must(t, patched.HTTPResponse, patched.Body, err)
	if p := patched.JSON200; p == nil || p.Name != "Jane Q. Roe" || p.City == nil || *p.City != "Springfield" || p.Email == nil || *p.Email != email {
		t.Fatalf("patch: %s", patched.Body)
	}

	// Two at a time, following next_cursor, every client once, ours among them.
	limit := 2
	params := &client.ListClientsParams{Limit: &limit}
	seen := map[int64]bool{}
	pages := 0
	for {
		page, err := c.ListClientsWithResponse(ctx, params)
		must(t, page.HTTPResponse, page.Body, err)
		pages++
		if len(page.JSON200.Items) > limit {
			t.Fatalf("page of %d items, limit %d", len(page.JSON200.Items), limit)
		}
		for _, it := range page.JSON200.Items {
			if seen[it.Id] {
				t.Fatalf("client %d on two pages", it.Id)
			}
			seen[it.Id] = true
		}
		if page.JSON200.NextCursor == nil {
			break
		}
		params = &client.ListClientsParams{Limit: &limit, Cursor: page.JSON200.NextCursor}
	}
	if !seen[id] || pages < 2 || len(seen) <= limit {
		t.Fatalf("%d pages, %d clients, ours (%d) seen: %v", pages, len(seen), id, seen[id])
	}

	del, err := c.DeleteClientWithResponse(ctx, id, nil)
	must(t, del.HTTPResponse, del.Body, err)
	if del.StatusCode() != http.StatusNoContent {
		t.Fatalf("delete: %d %s", del.StatusCode(), del.Body)
	}

	gone, err := c.GetClientWithResponse(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = client.CheckResponse(gone.HTTPResponse, gone.Body)
	var pe *client.ProblemError
	if !errors.As(err, &pe) || !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("get after delete: %v, want a 404 *ProblemError", err)
	}
	if pe.StatusCode != 404 || pe.Problem.Status != 404 || pe.Problem.Type != "https://pleskgate.dev/problems/not-found" ||
		pe.Problem.RequestId == nil || *pe.Problem.RequestId == "" || gone.ApplicationproblemJSON404 == nil {
		t.Fatalf("problem %+v", pe.Problem)
	}
}

// A batch through the generated client: one result per item in order, the
// new login 201 with its client, the demo client's login (jdoe) 409 with
// Plesk's code, and the Idempotency-Key's replay the same answer.
func TestClientCreatesBatch(t *testing.T) {
	ctx := context.Background()
	c := sandbox(t)
	password := "Go-client-Passw0rd!"
	key := "go-batch-1"
	body := client.ClientBatch{Clients: []client.ClientCreate{
		{Login: "batch-go-1", Name: "Batch One", Password: &password},
		{Login: "jdoe", Name: "Not John", Password: &password},
		{Login: "batch-go-2", Name: "Batch Two", Password: &password},
	}}
	resp, err := c.CreateClientsBatchWithResponse(ctx, &client.CreateClientsBatchParams{IdempotencyKey: &key}, body)
	must(t, resp.HTTPResponse, resp.Body, err)
	res := resp.JSON200.Results
	if len(res) != 3 || res[0].Status != 201 || res[0].Client == nil || res[0].Client.Login != "batch-go-1" ||
		res[1].Status != 409 || res[1].Client != nil || res[1].Problem == nil || res[1].Problem.PleskErrcode == nil ||
		res[2].Status != 201 || res[2].Client == nil || res[2].Client.Login != "batch-go-2" {
		t.Fatalf("batch: %s", resp.Body)
	}
	again, err := c.CreateClientsBatchWithResponse(ctx, &client.CreateClientsBatchParams{IdempotencyKey: &key}, body)
	must(t, again.HTTPResponse, again.Body, err)
	if string(again.Body) != string(resp.Body) || again.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %s", again.Body)
	}
}

func TestCheckResponseWithoutAProblemBody(t *testing.T) {
	resp := &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{"Content-Type": {"text/html"}}}
	err := client.CheckResponse(resp, []byte("<html>proxy error</html>"))
	var pe *client.ProblemError
	if !errors.As(err, &pe) || pe.Problem.Status != 502 || pe.Problem.Title != "Bad Gateway" || errors.Is(err, client.ErrNotFound) {
		t.Fatalf("%v %+v", err, pe)
	}
	if err := client.CheckResponse(&http.Response{StatusCode: 204}, nil); err != nil {
		t.Fatal(err)
	}
}

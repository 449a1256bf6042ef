// Command example uses the Go client (github.com/pleskgate/pleskgate/client)
// against a running gateway: it creates a client, reads it, renames it under
// If-Match, lists every client page by page, deletes it and shows the 404
// that follows as a typed error.
//
//	PLESKGATE_SANDBOX_PASSWORD=demo make run        # in one terminal
//	PLESKGATE_PASSWORD=demo go run ./examples/go     # in another
//
// Environment:
//
//	PLESKGATE_URL       gateway base URL  (default http://localhost:8080)
//	PLESKGATE_LOGIN     Plesk login       (default admin)
//	PLESKGATE_PASSWORD  Plesk password    (default demo)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/pleskgate/pleskgate/client"
)

func main() {
	getenv := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, os.Stdout, strings.TrimRight(getenv("PLESKGATE_URL", "http://localhost:8080"), "/"),
		getenv("PLESKGATE_LOGIN", "admin"), getenv("PLESKGATE_PASSWORD", "demo"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, baseURL, login, password string) error {
	c, err := client.NewClientWithResponses(baseURL, client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.SetBasicAuth(login, password)
		return nil
	}))
	if err != nil {
		return err
	}

	// A login of its own each run, so the example can run again.
	newLogin := "go-example-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	email, pw := newLogin+"@example.com", "Example-Passw0rd!"
	created, err := c.CreateClientWithResponse(ctx, nil, client.ClientCreate{Login: newLogin, Name: "Go Example", Email: &email, Password: &pw})
	if err == nil {
		err = client.CheckResponse(created.HTTPResponse, created.Body)
	}
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	id := created.JSON201.Id
	fmt.Fprintf(out, "created %s with id %d\n", newLogin, id)

	got, err := c.GetClientWithResponse(ctx, id, nil)
	if err == nil {
		err = client.CheckResponse(got.HTTPResponse, got.Body)
	}
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	etag := got.HTTPResponse.Header.Get("ETag")
	fmt.Fprintf(out, "got %q, ETag %s\n", got.JSON200.Name, etag)

	// A merge patch changes only the fields it names; If-Match makes it
	// fail with 412 if someone changed the client since the GET.
	patched, err := c.PatchClientWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, id,
		&client.PatchClientParams{IfMatch: &etag}, client.ClientPatch{Name: nullable.NewNullableWithValue("Go Example, renamed")})
	if err == nil {
		err = client.CheckResponse(patched.HTTPResponse, patched.Body)
	}
	if err != nil {
		return fmt.Errorf("patch: %w", err)
	}
	fmt.Fprintf(out, "renamed to %q\n", patched.JSON200.Name)

	limit := 2
	params := &client.ListClientsParams{Limit: &limit}
	for page := 1; ; page++ {
		list, err := c.ListClientsWithResponse(ctx, params)
		if err == nil {
			err = client.CheckResponse(list.HTTPResponse, list.Body)
		}
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		var logins []string
		for _, it := range list.JSON200.Items {
			logins = append(logins, it.Login)
		}
		fmt.Fprintf(out, "page %d: %s\n", page, strings.Join(logins, ", "))
		if list.JSON200.NextCursor == nil {
			break
		}
		params = &client.ListClientsParams{Limit: &limit, Cursor: list.JSON200.NextCursor}
	}

	del, err := c.DeleteClientWithResponse(ctx, id, nil)
	if err == nil {
		err = client.CheckResponse(del.HTTPResponse, del.Body)
	}
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	fmt.Fprintf(out, "deleted %d\n", id)

	gone, err := c.GetClientWithResponse(ctx, id, nil)
	if err == nil {
		err = client.CheckResponse(gone.HTTPResponse, gone.Body)
	}
	var pe *client.ProblemError
	if !errors.As(err, &pe) || !errors.Is(err, client.ErrNotFound) {
		return fmt.Errorf("get after delete: %v, want 404", err)
	}
	fmt.Fprintf(out, "then GET: %d %s (%s)\n", pe.StatusCode, pe.Problem.Title, pe.Problem.Type)
	return nil
}

package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/gateway"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

// The example runs to the end against a sandbox like `make run`'s.
func TestExampleRunsAgainstSandbox(t *testing.T) {
	sim, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: "demo", DemoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()
	gw, err := gateway.New(gateway.Config{Upstream: upstream.Config{BaseURL: simSrv.URL, Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	defer srv.Close()
	var out bytes.Buffer
	if err := run(context.Background(), &out, srv.URL, "admin", "demo"); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"created go-example-", "renamed to \"Go Example, renamed\"", "page 2:", "then GET: 404"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

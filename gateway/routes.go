package gateway

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/pleskgate/pleskgate"
	"github.com/pleskgate/pleskgate/translator"
)

// A route is what one API operation (an OpenAPI operationId) declares once,
// in its resource's file next to its handler (DESIGN.md §1, STYLE.md
// "Operations as data"):
//
//   - ops: the Plesk operations it sends together in one packet. Version
//     choice (versionFor), GET /meta and the legacy guard read them. The
//     first names the route in /meta. Whether the route writes, and whether
//     it is legacy-only, follow from these values (translator.Op: ReadOnly,
//     Operator per dialect) and are not stated a second time.
//   - reconcile: how a keyed POST whose write got no answer is reconciled
//     (idempotency.go), or nil when its effect cannot be read back (409
//     idempotency-outcome-unknown).
//
// The plumbing finds a route by its operation id (routeOf); nothing outside
// translator switches on operation names or request types.
type route struct {
	id        string
	ops       []translator.Operation
	reconcile reconciler
}

// A reconciler reads back whether the earlier write of a keyed POST took
// effect. It answers (answered=true, having written the response) when it
// did, returns false when it did not (the write is then sent), or an error
// when the read failed or cannot decide (the outcome stays unknown). A
// reconciler may also send the write itself, to tell the earlier attempt
// arriving late from a conflict (reconcileCreateClient, reconcileBatch):
// then its error is that write's answer, kept as any handler's is. body is
// the request's body, already validated.
type reconciler func(s *Server, c echo.Context, body []byte) (answered bool, err error)

// declared holds every route, by operation id.
var declared = map[string]*route{}

// declare records the route of operation id: the Plesk operations it sends
// and its reconciler (nil for none). It is called once per route, in a
// package-level var of the route's file. An operation translator does not
// know, or an id declared twice, stops the program at start-up.
func declare(id string, reconcile reconciler, ops ...translator.Operation) *route {
	if _, dup := declared[id]; dup {
		panic("gateway: route " + id + " declared twice")
	}
	if len(ops) == 0 {
		panic("gateway: route " + id + " declares no Plesk operation")
	}
	for _, op := range ops {
		if op.Op() == nil {
			panic(fmt.Sprintf("gateway: route %s: translator has no operation %q", id, op))
		}
	}
	r := &route{id: id, ops: ops, reconcile: reconcile}
	declared[id] = r
	return r
}

// routeOf returns the route of operation id, or nil.
func routeOf(id string) *route { return declared[id] }

// writes reports whether any of the route's operations changes anything.
func (r *route) writes() bool {
	for _, op := range r.ops {
		if !op.Op().ReadOnly() {
			return true
		}
	}
	return false
}

// element is the operation element that names the route in /meta.
func (r *route) element() string { return r.ops[0].Op().Element() }

// routesInSpecOrder lists the declared routes in the order openapi.yaml
// names their operations, so /meta reads as the contract does.
var routesInSpecOrder = sync.OnceValue(func() []*route {
	var out []*route
	sc := bufio.NewScanner(bytes.NewReader(pleskgate.OpenAPIYAML))
	for sc.Scan() {
		id, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "operationId:")
		if !ok {
			continue
		}
		if r := routeOf(strings.TrimSpace(id)); r != nil && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
})

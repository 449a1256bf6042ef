package gateway

import (
	"net/http"
	"slices"
	"testing"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

// serviceOperations are the operations of openapi.yaml that send nothing to
// Plesk: they have no route declaration.
var serviceOperations = []string{"getMeta", "getOpenAPIJSON", "getOpenAPIYAML", "getDocs", "getHealthz", "getReadyz", "getMetrics"}

// TestEveryRouteDeclared: every operation of openapi.yaml that talks to
// Plesk declares its route (routes.go) and nothing else does, so /meta,
// version choice and reconciliation cannot forget one; /meta lists them in
// the spec's order; only a writing route has a reconciler.
func TestEveryRouteDeclared(t *testing.T) {
	spec, err := api.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	var specIDs []string
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			specIDs = append(specIDs, op.OperationID)
		}
	}
	for _, id := range specIDs {
		service := slices.Contains(serviceOperations, id)
		if r := routeOf(id); r == nil && !service {
			t.Errorf("operation %s sends Plesk packets but declares no route", id)
		} else if r != nil && service {
			t.Errorf("service operation %s declares a route", id)
		}
	}
	for id, r := range declared {
		if !slices.Contains(specIDs, id) {
			t.Errorf("route %s is not an operation of openapi.yaml", id)
		}
		if r.reconcile != nil && !r.writes() {
			t.Errorf("route %s only reads but declares a reconciler", id)
		}
	}
	if got := len(routesInSpecOrder()); got != len(declared) {
		t.Errorf("/meta lists %d routes, %d are declared", got, len(declared))
	}
	for _, c := range []struct {
		r      *route
		writes bool
	}{{createClientRoute, true}, {getClientRoute, false}, {patchClientLimitsRoute, true}, {getLimitDescriptorRoute, false}, {listClientButtonsRoute, false}} {
		if c.r.writes() != c.writes {
			t.Errorf("%s.writes() = %v, want %v", c.r.id, c.r.writes(), c.writes)
		}
	}
}

// TestDeclareRefusesUnknownOperation: a route naming an operation translator
// does not know stops the program at start-up, not at the first request.
func TestDeclareRefusesUnknownOperation(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("declare accepted an unknown operation")
		}
		delete(declared, "testUnknownOperation")
	}()
	declare("testUnknownOperation", nil, translator.Operation("no-such-operation"))
}

// TestReplyOfWrongTypeIsAnError: a reply read by position that is not of
// the type the handler expects is a 502 bad-upstream-answer, not a panic
// (handlers read replies with translator.ReplyAs).
func TestReplyOfWrongTypeIsAnError(t *testing.T) {
	wrong := map[string]func() error{
		"firstGet":      func() error { _, err := firstGet(&translator.ResultsReply{}); return err },
		"firstResultOf": func() error { _, err := firstResultOf(&translator.GetReply{}); return err },
		"ipPoolErr":     func() error { return ipPoolErr(&translator.GetReply{}) },
	}
	for name, f := range wrong {
		err := f()
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if p, _ := problemFor(err); p.Status != http.StatusBadGateway {
			t.Errorf("%s: %v is a %d, want 502", name, err, p.Status)
		}
	}
}

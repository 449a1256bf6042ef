package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

// POST /clients/batch (DESIGN.md §2): 1–100 clients in ONE packet, one `add`
// per item in request order and one `get` by their logins after them (Plesk
// runs the operations of a packet in order, so the get sees every add). The
// answer is 200 with one result per item. A client read back is taken only
// for an item whose add returned an id, and only the client with that id:
// another client that holds the login is never reported as created.

// batchOperation is the batch's OpenAPI operation id.
const batchOperation = "createClientsBatch"

// createClientsBatchRoute: N adds and one get in one packet; an unknown
// outcome is reconciled by reading every login back (reconcileBatch).
var createClientsBatchRoute = declare(batchOperation, (*Server).reconcileBatch, translator.OpAdd, translator.OpGet)

// CreateClientsBatch implements POST /clients/batch (Plesk add ×N and get,
// one packet). Every item is checked, and encoded alone at the chosen
// version, before the packet is built: one bad item is a 422 naming it, and
// nothing is sent.
func (s *Server) CreateClientsBatch(ctx context.Context, req api.CreateClientsBatchRequestObject) (api.CreateClientsBatchResponseObject, error) {
	if req.Body == nil {
		return nil, errBadRequest("a JSON body is required")
	}
	items, err := batchClients(req.Body.Clients)
	if err != nil {
		return nil, err
	}
	v, err := s.batchVersion(ctx, items)
	if err != nil {
		return nil, err
	}
	out := make([]api.ClientBatchItem, len(items))
	if _, err := s.createBatch(ctx, v, items, allItems(len(items)), out, nil); err != nil {
		return nil, err
	}
	return api.CreateClientsBatch200JSONResponse{Body: api.ClientBatchResult{Results: out}}, nil
}

// batchClients converts every item with the single create's checks
// (newClientFrom), collecting every bad item's fields as JSON pointers
// into the body (/clients/3/owner_id).
func batchClients(in []api.ClientCreate) ([]translator.NewClient, error) {
	items := make([]translator.NewClient, len(in))
	var fields []FieldError
	var bad []string
	for i, b := range in {
		nc, err := newClientFrom(b)
		if err != nil {
			var gerr *Error
			if !errors.As(err, &gerr) {
				return nil, err
			}
			bad = append(bad, itemPointer(i)+": "+gerr.Detail)
			for _, f := range gerr.Errors {
				fields = append(fields, FieldError{Field: itemPointer(i) + "/" + escapePointer(f.Field), Message: f.Message})
			}
			continue
		}
		items[i] = nc
	}
	if len(bad) > 0 {
		return nil, errUnprocessable("nothing was sent: "+strings.Join(bad, "; "), fields...)
	}
	return items, nil
}

// batchVersion is the version the packet goes in: create's (add and get).
// Each item is encoded alone first, so a field the version lacks, or text
// XML cannot carry, is reported against its item before anything is sent.
func (s *Server) batchVersion(ctx context.Context, items []translator.NewClient) (translator.Version, error) {
	v, err := s.versionFor(ctx, routeOf(batchOperation).ops...) // by id: reconcileBatch, in the route, calls this
	if err != nil {
		return v, err
	}
	for i := range items {
		_, err := translator.EncodeRequest(v, &translator.AddRequest{Client: items[i]})
		switch {
		case err == nil:
		case errors.Is(err, translator.ErrInvalidInput):
			return v, errUnprocessable("nothing was sent: "+itemPointer(i)+": "+err.Error(),
				FieldError{Field: itemPointer(i), Message: err.Error()})
		default:
			return v, fmt.Errorf("%s: %w", itemPointer(i), err) // e.g. 501, a field this panel's versions lack
		}
	}
	return v, nil
}

// createBatch sends the items idx names in one packet, their adds then one
// get of their logins, and fills out[idx[j]] with each one's result.
//
// taken is nil for a new batch: an add that fails is that item's problem.
// A reconciling batch (reconcileBatch) passes the ids already answered
// for: an add that fails because its login exists is then answered from
// the get with the client that carries every field the item sent, not yet
// taken — the earlier attempt's own, which reached the panel after the
// logins were read back. resolved counts those items.
func (s *Server) createBatch(ctx context.Context, v translator.Version, items []translator.NewClient, idx []int, out []api.ClientBatchItem, taken map[int]bool) (resolved int, err error) {
	reqs := make([]translator.Request, 0, len(idx)+1)
	logins := make([]string, 0, len(idx))
	seen := make(map[string]bool, len(idx))
	for _, i := range idx {
		reqs = append(reqs, &translator.AddRequest{Client: items[i]})
		if !seen[items[i].Login] {
			seen[items[i].Login] = true
			logins = append(logins, items[i].Login)
		}
	}
	reqs = append(reqs, &translator.GetRequest{Filter: translator.ByLogin(logins...), GenInfo: true})
	replies, err := s.send(ctx, v, reqs...)
	if err != nil {
		return 0, err
	}
	got, err := translator.ReplyAs[*translator.GetReply](replies[len(replies)-1])
	if err != nil {
		return 0, err
	}
	adds := make([]*translator.AddReply, len(idx))
	for j := range idx {
		if adds[j], err = translator.ReplyAs[*translator.AddReply](replies[j]); err != nil {
			return 0, err
		}
		if taken != nil && adds[j].Result.OK() {
			taken[adds[j].Result.ID] = true // created now: no other item's
		}
	}
	for j, i := range idx {
		if taken != nil && translator.IsConflict(adds[j].Result.Err()) {
			if rec, ok := sentClient(got.Results, items[i], taken, v); ok {
				taken[rec.ID] = true
				resolved++
				cl := toAPIClient(rec)
				out[i] = api.ClientBatchItem{Status: http.StatusCreated, Client: &cl}
				continue
			}
		}
		out[i] = batchItem(adds[j], got.Results, items[i], v)
	}
	return resolved, nil
}

// batchItem is one item's result: 201 with the client its add created
// (createdRecord: a login's client counts only as the client its own add
// created, by id), or the problem its add failed with.
func batchItem(add *translator.AddReply, got []translator.GetResult, nc translator.NewClient, v translator.Version) api.ClientBatchItem {
	rec, err := createdRecord(add, got, nc, v)
	if err != nil {
		p, _ := problemFor(err)
		return api.ClientBatchItem{Status: p.Status, Problem: toAPIProblem(p)}
	}
	c := toAPIClient(rec)
	return api.ClientBatchItem{Status: http.StatusCreated, Client: &c}
}

// reconcileBatch settles a batch whose earlier attempt with this key has an
// unknown outcome (idempotency.go): every login is read back in one packet.
// An item whose login is held by a client carrying every field the item
// sent (sentMatches) is answered 201 from it (each client answers for one
// item at most); the others are sent now, in one packet, whose adds that
// meet the earlier attempt's clients (it reached the panel after the read)
// are answered from them too (createBatch). The answer is marked
// Idempotent-Reconciled: true when any item was answered from a client the
// earlier attempt created.
func (s *Server) reconcileBatch(c echo.Context, body []byte) (bool, error) {
	var b api.ClientBatch
	if err := json.Unmarshal(body, &b); err != nil || len(b.Clients) == 0 {
		return false, nil
	}
	items, err := batchClients(b.Clients)
	if err != nil {
		return false, nil // the handler refuses it
	}
	ctx := c.Request().Context()
	logins := make([]string, 0, len(items))
	seen := map[string]bool{}
	for _, nc := range items {
		if !seen[nc.Login] {
			seen[nc.Login] = true
			logins = append(logins, nc.Login)
		}
	}
	recs, _, err := s.readClients(ctx, translator.ByLogin(logins...), include{})
	if err != nil {
		return false, err
	}
	out := make([]api.ClientBatchItem, len(items))
	taken := map[int]bool{}
	var pending []int
	for i, nc := range items {
		found := false
		for _, rec := range recs {
			if !taken[rec.ID] && sentMatches(rec.Info, nc) {
				taken[rec.ID], found = true, true
				cl := toAPIClient(rec)
				out[i] = api.ClientBatchItem{Status: http.StatusCreated, Client: &cl}
				break
			}
		}
		if !found {
			pending = append(pending, i)
		}
	}
	resolved := len(items) - len(pending)
	if len(pending) > 0 {
		v, err := s.batchVersion(ctx, items)
		if err != nil {
			return false, err
		}
		n, err := s.createBatch(ctx, v, items, pending, out, taken)
		if err != nil {
			return false, err
		}
		resolved += n
	}
	var h api.CreateClientsBatch200ResponseHeaders
	if resolved > 0 {
		h.IdempotentReconciled = reconciledTrue()
	}
	return true, api.CreateClientsBatch200JSONResponse{Body: api.ClientBatchResult{Results: out}, Headers: h}.VisitCreateClientsBatchResponse(c.Response())
}

// batchItemProblem makes the validator's problem about one item of a batch
// (its pointer is /clients/<n>/…) the 422 the contract names: the body's
// shape was right, that item is not. Problems about the body as a whole (no
// clients, more than 100) stay 400.
func batchItemProblem(rerr *openapi3filter.RequestError, p Problem) Problem {
	in := rerr.Input
	if in == nil || in.Route == nil || in.Route.Operation == nil || in.Route.Operation.OperationID != batchOperation || len(p.Errors) == 0 {
		return p
	}
	rest, ok := strings.CutPrefix(p.Errors[0].Field, "/clients/")
	if !ok {
		return p
	}
	n, _, _ := strings.Cut(rest, "/")
	if _, err := strconv.Atoi(n); err != nil {
		return p
	}
	p.Type, p.Title, p.Status = problemType("invalid-value"), "Invalid value", http.StatusUnprocessableEntity
	return p
}

// itemPointer is the JSON pointer of item i of a batch body.
func itemPointer(i int) string { return "/clients/" + strconv.Itoa(i) }

// allItems is 0…n-1.
func allItems(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

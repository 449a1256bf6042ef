package gateway

// Clients: list, create, read, change and delete client accounts (Plesk
// get, add, set, del), and a client's statistics.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

// The routes of this file (routes.go).
var (
	listClientsRoute   = declare("listClients", nil, translator.OpGet)
	createClientRoute  = declare("createClient", (*Server).reconcileCreateClient, translator.OpAdd, translator.OpGet)
	deleteClientsRoute = declare("deleteClients", nil, translator.OpDel)
	getClientRoute     = declare("getClient", nil, translator.OpGet)
	patchClientRoute   = declare("patchClient", nil, translator.OpSet, translator.OpGet)
	deleteClientRoute  = declare("deleteClient", nil, translator.OpDel)
	getClientStatRoute = declare("getClientStat", nil, translator.OpGet)
)

const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// filterFromParams builds the one-kind filter of GET/DELETE /clients.
func filterFromParams(ids *[]int64, logins, guids, externalIDs *[]string, ownerIDs *[]int64, ownerLogins *[]string) (translator.Filter, error) {
	var kinds []string
	var f translator.Filter
	addInts := func(name string, kind translator.FilterKind, vs *[]int64) {
		if vs == nil || len(*vs) == 0 {
			return
		}
		kinds = append(kinds, name)
		f.Kind = kind
		for _, v := range *vs {
			f.Values = append(f.Values, strconv.FormatInt(v, 10))
		}
	}
	addStrings := func(name string, kind translator.FilterKind, vs *[]string) {
		if vs == nil || len(*vs) == 0 {
			return
		}
		kinds = append(kinds, name)
		f.Kind = kind
		f.Values = append(f.Values, *vs...)
	}
	addInts("id", translator.FilterID, ids)
	addStrings("login", translator.FilterLogin, logins)
	addStrings("guid", translator.FilterGUID, guids)
	addStrings("external_id", translator.FilterExternalID, externalIDs)
	addInts("owner_id", translator.FilterOwnerID, ownerIDs)
	addStrings("owner_login", translator.FilterOwnerLogin, ownerLogins)
	if len(kinds) > 1 {
		return f, errBadRequest("filter by one kind per call: Plesk cannot mix "+strings.Join(kinds, " and "),
			FieldError{Field: "query", Message: "mixed filter kinds: " + strings.Join(kinds, ", ")})
	}
	for _, v := range f.Values {
		if strings.TrimSpace(v) == "" {
			return f, errBadRequest("filter values must not be blank", FieldError{Field: "query." + kinds[0], Message: "blank value"})
		}
	}
	return f, nil
}

func includeFrom(vals *[]api.Include) include {
	var in include
	if vals == nil {
		return in
	}
	for _, v := range *vals {
		switch v {
		case api.IncludeStat:
			in.Stat = true
		case api.IncludeLimits:
			in.Limits = true
		case api.IncludePermissions:
			in.Permissions = true
		case api.IncludeIppool:
			in.IPPool = true
		}
	}
	return in
}

// ListClients implements GET /clients (Plesk get). Paging happens in the
// gateway (listing.go): ids first, then the page's records by id.
func (s *Server) ListClients(ctx context.Context, req api.ListClientsRequestObject) (api.ListClientsResponseObject, error) {
	p := req.Params
	f, err := filterFromParams(p.Id, p.Login, p.Guid, p.ExternalId, p.OwnerId, p.OwnerLogin)
	if err != nil {
		return nil, err
	}
	limit := defaultPageSize
	if p.Limit != nil {
		limit = *p.Limit
	}
	var cur *listCursor
	if p.Cursor != nil {
		c, err := decodeCursor(*p.Cursor)
		if err != nil {
			return nil, err
		}
		cur = &c
	}
	page, err := s.listClients(ctx, f, includeFrom(p.Include), limit, cur)
	if err != nil {
		return nil, err
	}
	// The page is converted and encoded one client at a time as it is
	// written (listresponse.go), not built as an api.ClientList.
	out := listResponse{recs: page.recs, inc: page.inc}
	if page.next != nil {
		next := encodeCursor(*page.next)
		link := fmt.Sprintf(`</clients?%s>; rel="next"`, nextQuery(p, next))
		out.next, out.link = &next, &link
	}
	return out, nil
}

// nextQuery rebuilds the query of the next page.
func nextQuery(p api.ListClientsParams, cursor string) string {
	q := url.Values{}
	ints := func(k string, vs *[]int64) {
		if vs != nil {
			for _, v := range *vs {
				q.Add(k, strconv.FormatInt(v, 10))
			}
		}
	}
	strs := func(k string, vs *[]string) {
		if vs != nil {
			for _, v := range *vs {
				q.Add(k, v)
			}
		}
	}
	ints("id", p.Id)
	strs("login", p.Login)
	strs("guid", p.Guid)
	strs("external_id", p.ExternalId)
	ints("owner_id", p.OwnerId)
	strs("owner_login", p.OwnerLogin)
	if p.Include != nil {
		for _, v := range *p.Include {
			q.Add("include", string(v))
		}
	}
	if p.Limit != nil {
		q.Set("limit", strconv.Itoa(*p.Limit))
	}
	q.Set("cursor", cursor)
	return q.Encode()
}

// CreateClient implements POST /clients (Plesk add). The add and a get of
// the new login travel in one packet, so the created client comes back
// without a second round trip.
func (s *Server) CreateClient(ctx context.Context, req api.CreateClientRequestObject) (api.CreateClientResponseObject, error) {
	if req.Body == nil {
		return nil, errBadRequest("a JSON body is required")
	}
	nc, err := newClientFrom(*req.Body)
	if err != nil {
		return nil, err
	}
	rec, _, err := s.createClient(ctx, nc, false)
	if err != nil {
		return nil, err
	}
	return api.CreateClient201JSONResponse{Body: toAPIClient(rec), Headers: api.CreateClient201ResponseHeaders{
		Location: "/clients/" + strconv.Itoa(rec.ID),
	}}, nil
}

// createClient sends nc's add and a get of its login in one packet and
// returns the client created. A reconciling create (reconcileCreateClient)
// whose add fails because the login exists is answered from the get with
// the client that carries every field sent (existing=true): the earlier
// attempt's own, which reached the panel after the login was read back.
func (s *Server) createClient(ctx context.Context, nc translator.NewClient, reconciling bool) (rec clientRecord, existing bool, err error) {
	v, err := s.versionFor(ctx, routeOf("createClient").ops...) // by id: reconcileCreateClient, in the route, calls this
	if err != nil {
		return rec, false, err
	}
	replies, err := s.send(ctx, v,
		&translator.AddRequest{Client: nc},
		&translator.GetRequest{Filter: translator.ByLogin(nc.Login), GenInfo: true})
	if err != nil {
		return rec, false, err
	}
	add, err := translator.ReplyAs[*translator.AddReply](replies[0])
	if err != nil {
		return rec, false, err
	}
	get, err := translator.ReplyAs[*translator.GetReply](replies[1])
	if err != nil {
		return rec, false, err
	}
	if reconciling && translator.IsConflict(add.Result.Err()) {
		if rec, ok := sentClient(get.Results, nc, nil, v); ok {
			return rec, true, nil
		}
	}
	rec, err = createdRecord(add, get.Results, nc, v)
	return rec, false, err
}

// createdRecord is the client an add created, read from the get that
// travelled with it by the add's id: the add's error when it failed, a 502
// when Plesk reported it done without an id (nothing read back can then be
// proven to be the new client), or the record — what was sent when the
// get did not see it (a reseller's visibility rules, say), rather than an
// invented failure.
func createdRecord(add *translator.AddReply, got []translator.GetResult, nc translator.NewClient, v translator.Version) (clientRecord, error) {
	if err := add.Result.Err(); err != nil {
		return clientRecord{}, err
	}
	if add.Result.ID <= 0 {
		return clientRecord{}, &Error{Status: http.StatusBadGateway, Slug: "bad-upstream-answer", Title: "Malformed answer from Plesk",
			Detail: "Plesk reported the add of " + nc.Login + " as done but gave no id; check the client in Plesk"}
	}
	rec := clientRecord{ID: add.Result.ID, version: v}
	for _, r := range got {
		if r.Result.OK() && r.Result.ID == add.Result.ID && r.Client != nil {
			rec.Info = *r.Client
			return rec, nil
		}
	}
	rec.Info = translator.ClientInfo{Login: nc.Login, Name: nc.Name, GUID: add.GUID}
	return rec, nil
}

// sentClient is the client among a get's results that carries every field
// nc sent (sentMatches) and that taken does not hold, if any.
func sentClient(got []translator.GetResult, nc translator.NewClient, taken map[int]bool, v translator.Version) (clientRecord, bool) {
	for _, r := range got {
		if r.Result.OK() && r.Result.ID > 0 && r.Client != nil && !taken[r.Result.ID] && sentMatches(*r.Client, nc) {
			return clientRecord{ID: r.Result.ID, Info: *r.Client, version: v}, true
		}
	}
	return clientRecord{}, false
}

// GetClient implements GET /clients/{id} (Plesk get).
func (s *Server) GetClient(ctx context.Context, req api.GetClientRequestObject) (api.GetClientResponseObject, error) {
	rec, err := s.readClient(ctx, req.Id, includeFrom(req.Params.Include))
	if err != nil {
		return nil, err
	}
	body := toAPIClient(rec)
	return api.GetClient200JSONResponse{Body: body, Headers: api.GetClient200ResponseHeaders{ETag: clientETag(rec)}}, nil
}

// clientETag is the validator of a client's general info, whatever was
// included: If-Match on PATCH/DELETE compares against it.
func clientETag(rec clientRecord) string {
	return clientInfoETag(rec.ID, &rec.Info)
}

// PatchClient implements PATCH /clients/{id} (Plesk set) as a JSON merge
// patch: only the fields sent go into <values>. Set and get travel in one packet.
func (s *Server) PatchClient(ctx context.Context, req api.PatchClientRequestObject) (api.PatchClientResponseObject, error) {
	if req.Body == nil {
		return nil, errBadRequest("a JSON merge patch body is required")
	}
	upd, err := clientUpdateFrom(*req.Body)
	if err != nil {
		return nil, err
	}
	v, err := s.versionFor(ctx, patchClientRoute.ops...)
	if err != nil {
		return nil, err
	}
	filter := translator.ByID(int(req.Id))
	reqs := []translator.Request{}
	empty := upd == (translator.ClientUpdate{})
	if !empty {
		reqs = append(reqs, &translator.SetRequest{Filter: filter, Client: &upd})
	}
	reqs = append(reqs, &translator.GetRequest{Filter: filter, GenInfo: true})
	var replies []translator.Reply
	err = s.conditional(ctx, req.Id, req.Params.IfMatch, func(ctx context.Context) (err error) {
		replies, err = s.send(ctx, v, reqs...)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !empty {
		if _, err := firstResultOf(replies[0]); err != nil {
			return nil, err
		}
	}
	g, err := firstGet(replies[len(replies)-1])
	if err != nil {
		return nil, err
	}
	rec := recordOf(&g, include{}, v)
	return api.PatchClient200JSONResponse{Body: toAPIClient(rec), Headers: api.PatchClient200ResponseHeaders{ETag: clientETag(rec)}}, nil
}

// DeleteClient implements DELETE /clients/{id} (Plesk del).
func (s *Server) DeleteClient(ctx context.Context, req api.DeleteClientRequestObject) (api.DeleteClientResponseObject, error) {
	v, err := s.versionFor(ctx, deleteClientRoute.ops...)
	if err != nil {
		return nil, err
	}
	var replies []translator.Reply
	err = s.conditional(ctx, req.Id, req.Params.IfMatch, func(ctx context.Context) (err error) {
		replies, err = s.send(ctx, v, &translator.DelRequest{Filter: translator.ByID(int(req.Id))})
		return err
	})
	if err != nil {
		return nil, err
	}
	if _, err := firstResultOf(replies[0]); err != nil {
		return nil, err
	}
	return api.DeleteClient204Response{}, nil
}

// DeleteClients implements DELETE /clients?… (Plesk del with a filter): every
// selected client in one packet, each with its own result. An empty filter
// would delete every client the caller can see, so it is refused.
func (s *Server) DeleteClients(ctx context.Context, req api.DeleteClientsRequestObject) (api.DeleteClientsResponseObject, error) {
	p := req.Params
	f, err := filterFromParams(p.Id, p.Login, p.Guid, p.ExternalId, p.OwnerId, p.OwnerLogin)
	if err != nil {
		return nil, err
	}
	if f.IsBlank() {
		return nil, errBadRequest("bulk delete needs a filter (id, login, guid, external_id, owner_id or owner_login): an empty filter would delete every client")
	}
	v, err := s.versionFor(ctx, deleteClientsRoute.ops...)
	if err != nil {
		return nil, err
	}
	replies, err := s.send(ctx, v, &translator.DelRequest{Filter: f})
	if err != nil {
		return nil, err
	}
	dels, err := translator.ReplyAs[*translator.ResultsReply](replies[0])
	if err != nil {
		return nil, err
	}
	out := api.BulkDeleteResult{Results: []api.BulkDeleteItem{}}
	for _, r := range dels.Results {
		item := api.BulkDeleteItem{FilterValue: r.FilterID, Status: api.BulkDeleteItemStatusDeleted}
		if r.ID > 0 {
			id := int64(r.ID)
			item.Id = &id
		}
		if err := r.Err(); err != nil {
			item.Status = api.BulkDeleteItemStatusError
			p, _ := problemFor(err)
			item.Error = toAPIProblem(p)
		}
		out.Results = append(out.Results, item)
	}
	return api.DeleteClients200JSONResponse(out), nil
}

// GetClientStat implements GET /clients/{id}/stat (Plesk get, dataset stat).
func (s *Server) GetClientStat(ctx context.Context, req api.GetClientStatRequestObject) (api.GetClientStatResponseObject, error) {
	rec, err := s.readClient(ctx, req.Id, include{Stat: true})
	if err != nil {
		return nil, err
	}
	if rec.Stat == nil {
		return nil, errMissingBlock("stat")
	}
	return api.GetClientStat200JSONResponse(toAPIStat(*rec.Stat)), nil
}

// reconcileCreateClient reconciles a keyed POST /clients whose add got no
// answer: the client is read by the body's login; when it carries every
// field the body sent (sentMatches), the answer is the 201 with it. Else the
// add is sent now (createClient, reconciling): a login taken by a client
// that differs is someone else's, and Plesk's 409 is the answer; one that
// matches is the earlier attempt's, arrived after the read. The answer is
// marked Idempotent-Reconciled: true when it is a client the earlier
// attempt created.
func (s *Server) reconcileCreateClient(c echo.Context, body []byte) (bool, error) {
	var b api.ClientCreate
	if err := json.Unmarshal(body, &b); err != nil {
		return false, nil
	}
	nc, err := newClientFrom(b)
	if err != nil || nc.Login == "" {
		return false, nil // the handler refuses it
	}
	ctx := c.Request().Context()
	recs, _, err := s.readClients(ctx, translator.ByLogin(nc.Login), include{})
	if err != nil {
		return false, err
	}
	var rec clientRecord
	existing := false
	for _, r := range recs {
		if sentMatches(r.Info, nc) {
			rec, existing = r, true
			break
		}
	}
	if !existing {
		if rec, existing, err = s.createClient(ctx, nc, true); err != nil {
			return false, err // Plesk's answer to the add, or an unknown outcome again (idempotency.go tells them apart)
		}
	}
	h := api.CreateClient201ResponseHeaders{Location: "/clients/" + strconv.Itoa(rec.ID)}
	if existing {
		h.IdempotentReconciled = reconciledTrue()
	}
	return true, api.CreateClient201JSONResponse{Body: toAPIClient(rec), Headers: h}.VisitCreateClientResponse(c.Response())
}

// sentMatches reports whether info, a client Plesk holds, carries every
// field nc sent: only then do the reconcilers (reconcileCreateClient,
// reconcileBatch) take an existing client as their earlier attempt's own.
// A field not sent is not compared (Plesk fills some, the locale say); nor
// is the status (the panel sets bits of its own: backup, expiry); the owner
// is compared only where the answer names it.
//
// Remaining risk: a client that held the login before the first attempt
// and is identical in every field sent cannot be told from the first
// attempt's own (Plesk's answer carries nothing else to tell them by: the
// GUID is unknown until the add answers, the creation date is only a day),
// so a retry after a timeout answers 201 with it, where the first attempt
// would have answered 409.
func sentMatches(info translator.ClientInfo, nc translator.NewClient) bool {
	if info.Login != nc.Login || info.Name != nc.Name {
		return false
	}
	for _, f := range []struct {
		sent *string
		got  string
	}{
		{nc.Company, info.Company}, {nc.Email, info.Email}, {nc.Phone, info.Phone}, {nc.Fax, info.Fax},
		{nc.Address, info.Address}, {nc.City, info.City}, {nc.State, info.State}, {nc.PostalCode, info.PostalCode},
		{nc.Country, info.Country}, {nc.Locale, info.Locale}, {nc.ExternalID, info.ExternalID}, {nc.Description, info.Description},
	} {
		if f.sent != nil && *f.sent != f.got {
			return false
		}
	}
	if nc.OwnerID != nil && info.OwnerID != nil && *nc.OwnerID != *info.OwnerID {
		return false
	}
	if nc.OwnerLogin != nil && info.OwnerLogin != "" && *nc.OwnerLogin != info.OwnerLogin {
		return false
	}
	return true
}

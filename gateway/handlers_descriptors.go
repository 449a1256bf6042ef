package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

// descriptorKind is "limits" or "permissions".
type descriptorKind string

func (k descriptorKind) op() translator.Operation {
	if k == "limits" {
		return translator.OpGetLimitDescriptor
	}
	return translator.OpGetPermissionDescriptor
}

// cachedDescriptor is a descriptor read as served: from the cache, or fetched
// once (singleflight) and stored, keyed by the caller's identity, the protocol
// version and the filter, so one caller never sees another's rights.
type cachedDescriptor struct {
	entry       CacheEntry
	outcome     cacheOutcome
	notModified bool
}

func (s *Server) descriptor(ctx context.Context, kind descriptorKind, clientID int64, ifNoneMatch *string) (cachedDescriptor, error) {
	v, err := s.descriptorVersion(ctx, kind)
	if err != nil {
		return cachedDescriptor{}, err
	}
	parts := descKeyParts{identity: identityFrom(ctx), kind: kind, version: v, clientID: clientID}
	if e := s.descHits.get(parts, requestTime(ctx)); e != nil {
		// What the in-memory store would answer, without asking it.
		s.descriptors.note(cacheHit)
		return newCachedDescriptor(*e, cacheHit, ifNoneMatch), nil
	}
	key := s.descKeys.get(parts, s.buildDescriptorKey)
	entry, outcome, err := s.descriptors.get(ctx, key, func(ctx context.Context) ([]byte, error) {
		filter := translator.Filter{}
		if clientID > 0 {
			filter = translator.ByID(int(clientID))
		}
		var req translator.Request
		if kind == "limits" {
			req = &translator.LimitDescriptorRequest{Filter: filter}
		} else {
			req = &translator.PermissionDescriptorRequest{Filter: filter}
		}
		replies, err := s.send(ctx, v, req)
		if err != nil {
			return nil, err
		}
		rep := replies[0].(*translator.DescriptorReply)
		if len(rep.Results) == 0 {
			if clientID > 0 {
				return nil, errNotFound("no client with id " + strconv.FormatInt(clientID, 10))
			}
			return nil, errMissingBlock("descriptor")
		}
		r := rep.Results[0]
		if err := r.Result.Err(); err != nil {
			return nil, err
		}
		if r.Descriptor == nil {
			return nil, errMissingBlock("descriptor")
		}
		return json.Marshal(toAPIDescriptor(*r.Descriptor))
	})
	if err != nil {
		return cachedDescriptor{}, err
	}
	if outcome != cacheBypass {
		s.descHits.put(parts, entry, time.Now())
	}
	return newCachedDescriptor(entry, outcome, ifNoneMatch), nil
}

func newCachedDescriptor(entry CacheEntry, outcome cacheOutcome, ifNoneMatch *string) cachedDescriptor {
	d := cachedDescriptor{entry: entry, outcome: outcome}
	if ifNoneMatch != nil && etagMatches(*ifNoneMatch, entry.ETag) {
		d.notModified = true
	}
	return d
}

// buildDescriptorKey spells a descriptor cache key. The upstream's URL is
// part of it: two deployments in front of different panels may share one
// Redis.
func (s *Server) buildDescriptorKey(p descKeyParts) string {
	filterKey := "server"
	if p.clientID > 0 {
		filterKey = "id=" + strconv.FormatInt(p.clientID, 10)
	}
	return descriptorKey(s.upstreamID+":"+p.identity, string(p.kind), p.version.String(), filterKey)
}

// ttlSeconds is how long an entry has left, in whole seconds, never negative.
func ttlSeconds(e CacheEntry) int {
	return ttlSecondsAt(e, time.Now())
}

// ttlSecondsAt is ttlSeconds at the instant now.
func ttlSecondsAt(e CacheEntry, now time.Time) int {
	ttl := int(e.Expires.Sub(now).Seconds())
	if ttl < 0 {
		ttl = 0
	}
	return ttl
}

// GetLimitDescriptor implements GET /descriptors/limits (legacy client/get-limit-descriptor, blank filter).
func (s *Server) GetLimitDescriptor(ctx context.Context, req api.GetLimitDescriptorRequestObject) (api.GetLimitDescriptorResponseObject, error) {
	return s.descriptorResponse(ctx, "limits", 0, req.Params.IfNoneMatch)
}

// GetPermissionDescriptor implements GET /descriptors/permissions (legacy client/get-permission-descriptor, blank filter).
func (s *Server) GetPermissionDescriptor(ctx context.Context, req api.GetPermissionDescriptorRequestObject) (api.GetPermissionDescriptorResponseObject, error) {
	return s.descriptorResponse(ctx, "permissions", 0, req.Params.IfNoneMatch)
}

// GetClientLimitDescriptor implements GET /clients/{id}/descriptors/limits (legacy get-limit-descriptor filtered by id).
func (s *Server) GetClientLimitDescriptor(ctx context.Context, req api.GetClientLimitDescriptorRequestObject) (api.GetClientLimitDescriptorResponseObject, error) {
	return s.descriptorResponse(ctx, "limits", req.Id, req.Params.IfNoneMatch)
}

// GetClientPermissionDescriptor implements GET /clients/{id}/descriptors/permissions.
func (s *Server) GetClientPermissionDescriptor(ctx context.Context, req api.GetClientPermissionDescriptorRequestObject) (api.GetClientPermissionDescriptorResponseObject, error) {
	return s.descriptorResponse(ctx, "permissions", req.Id, req.Params.IfNoneMatch)
}

// descriptorResponse reads a descriptor (cached) as the answer of any of
// the four descriptor operations.
func (s *Server) descriptorResponse(ctx context.Context, kind descriptorKind, clientID int64, ifNoneMatch *string) (rawDescriptorResponse, error) {
	d, err := s.descriptor(ctx, kind, clientID, ifNoneMatch)
	if err != nil {
		return rawDescriptorResponse{}, err
	}
	// A hit's seconds left are counted from the request's one clock
	// reading; an entry just fetched counts from now, after the fetch.
	var now time.Time
	if d.outcome == cacheHit {
		now = requestTime(ctx)
	} else {
		now = time.Now()
	}
	return rawDescriptorResponse{d: d, hdr: s.descriptorHeaders(d, now)}, nil
}

// descHeaders are the header values of a descriptor answer: they depend
// only on the entry's ETag, the cache outcome and the whole seconds left.
type descHeaders struct {
	etag    string
	outcome cacheOutcome
	ttl     int
	// ETag, Cache-Control, Cache-Status, Content-Type; each header's value
	// slice is a one-element window of it, never written after it is built.
	vals [4]string
}

// descriptorHeaders returns the headers of d's answer. The last set built is
// kept: a hot entry served many times a second builds its headers once a
// second instead of on every hit.
func (s *Server) descriptorHeaders(d cachedDescriptor, now time.Time) *descHeaders {
	ttl := ttlSecondsAt(d.entry, now)
	if h := s.lastDescHeaders.Load(); h != nil && h.etag == d.entry.ETag && h.outcome == d.outcome && h.ttl == ttl {
		return h
	}
	h := &descHeaders{etag: d.entry.ETag, outcome: d.outcome, ttl: ttl}
	h.vals[0] = d.entry.ETag
	// private: the content depends on the caller's rights.
	h.vals[1] = "private, max-age=" + strconv.Itoa(ttl)
	h.vals[2] = cacheStatusTTL(d.outcome, ttl)
	h.vals[3] = "application/json"
	s.lastDescHeaders.Store(h)
	return h
}

// rawDescriptorResponse writes a cached descriptor body as stored (a cache
// hit costs no JSON encoding at all), or a 304 when If-None-Match matched.
// It serves all four descriptor operations.
type rawDescriptorResponse struct {
	d   cachedDescriptor
	hdr *descHeaders
}

func (r rawDescriptorResponse) write(w http.ResponseWriter) error {
	h := w.Header()
	// Canonical keys, shared read-only values: Header.Set would canonicalise
	// and allocate a slice per header.
	v := &r.hdr.vals
	h["Etag"] = v[0:1:1]
	h["Cache-Control"] = v[1:2:2]
	h["Cache-Status"] = v[2:3:3]
	if r.d.notModified {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h["Content-Type"] = v[3:4:4]
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(r.d.entry.Body)
	return err
}

func (r rawDescriptorResponse) VisitGetLimitDescriptorResponse(w http.ResponseWriter) error {
	return r.write(w)
}

func (r rawDescriptorResponse) VisitGetPermissionDescriptorResponse(w http.ResponseWriter) error {
	return r.write(w)
}

func (r rawDescriptorResponse) VisitGetClientLimitDescriptorResponse(w http.ResponseWriter) error {
	return r.write(w)
}

func (r rawDescriptorResponse) VisitGetClientPermissionDescriptorResponse(w http.ResponseWriter) error {
	return r.write(w)
}

// descRoute marks one of the four descriptor reads in the route index.
type descRoute struct {
	kind   descriptorKind
	client bool // /clients/{id}/descriptors/…: the path's id filters
}

// headerIfNoneMatch is If-None-Match in Go's canonical form.
const headerIfNoneMatch = "If-None-Match"

// descRouteOf returns the descriptor route of a GET operation, or nil when
// the operation is not a descriptor read or when its precompiled checks do
// not cover what the generated wrapper binds (the If-None-Match header and,
// per client, the id path parameter): serveDescriptor relies on them.
func descRouteOf(method, operationID string, checks []paramCheck) *descRoute {
	if method != http.MethodGet {
		return nil
	}
	var d descRoute
	switch operationID {
	case "getLimitDescriptor":
		d = descRoute{kind: "limits"}
	case "getPermissionDescriptor":
		d = descRoute{kind: "permissions"}
	case "getClientLimitDescriptor":
		d = descRoute{kind: "limits", client: true}
	case "getClientPermissionDescriptor":
		d = descRoute{kind: "permissions", client: true}
	default:
		return nil
	}
	var inm, id bool
	for _, ch := range checks {
		switch {
		case ch.in == openapi3.ParameterInHeader && ch.name == headerIfNoneMatch && !ch.isInt:
			inm = true
		case ch.in == openapi3.ParameterInPath && ch.name == "id" && ch.isInt && ch.required:
			id = true
		case ch.in == openapi3.ParameterInPath || ch.required:
			return nil // a parameter serveDescriptor does not know
		}
	}
	if !inm || id != d.client {
		return nil
	}
	return &d
}

// serveDescriptor answers a descriptor read inside the chain, after
// authentication, with the same descriptorResponse and the same write as
// the operation's strict handler, but without the generated wrapper: no
// request and response objects boxed into interfaces, no closure, no
// request copy (the state is passed as the context). validate calls it
// only when the precompiled checks vouched for the parameters, so what the
// wrapper would bind is read directly: the id is plain decimal digits
// within the schema's bounds, If-None-Match at most one value, taken as is
// (headers are not unescaped). Errors go to Echo's error handler as the
// strict handler's would.
func (s *Server) serveDescriptor(c echo.Context, st *reqState, d *descRoute) error {
	if descFastHook != nil {
		descFastHook(s)
	}
	var id int64
	if d.client {
		var err error
		if id, err = strconv.ParseInt(c.Param("id"), 10, 64); err != nil {
			return errBadRequest("Invalid format for parameter id: " + err.Error())
		}
	}
	var ifNoneMatch *string
	if vs := c.Request().Header[headerIfNoneMatch]; len(vs) > 0 {
		ifNoneMatch = &vs[0]
	}
	resp, err := s.descriptorResponse(st, d.kind, id, ifNoneMatch)
	if err != nil {
		return err
	}
	return resp.write(c.Response())
}

// descFastHook, when set (by tests), is called on every descriptor read
// serveDescriptor answers.
var descFastHook func(*Server)

// versionMemo is versionFor's answer for one descriptor operation, valid
// while the protocol's version list is the slice it was computed from.
type versionMemo struct {
	list *translator.Version // &list[0]
	n    int
	v    translator.Version
}

func (k descriptorKind) index() int {
	if k == "limits" {
		return 0
	}
	return 1
}

// descriptorVersion is versionFor(ctx, kind.op()), remembered per version
// list: the answer depends only on the list (learned once in auto mode,
// fixed when pinned) and the operation, so a repeat read costs a pointer
// comparison instead of a walk over every listed version. Failures are not
// remembered.
func (s *Server) descriptorVersion(ctx context.Context, kind descriptorKind) (translator.Version, error) {
	memo := &s.descVersions[kind.index()]
	known := s.cfg.Protocol.Known()
	if len(known) > 0 {
		if m := memo.Load(); m != nil && m.list == &known[0] && m.n == len(known) {
			return m.v, nil
		}
	}
	v, err := s.versionFor(ctx, kind.op())
	if err != nil {
		return v, err
	}
	// Remembered only when versionFor answered from the very list read
	// before it (not one learned meanwhile).
	if len(known) > 0 {
		if after := s.cfg.Protocol.Known(); len(after) == len(known) && &after[0] == &known[0] {
			memo.Store(&versionMemo{list: &known[0], n: len(known), v: v})
		}
	}
	return v, nil
}

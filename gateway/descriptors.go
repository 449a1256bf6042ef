package gateway

// Limit and permission descriptors (legacy client get-limit-descriptor,
// get-permission-descriptor), cached (cache.go).

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/translator"
)

// The routes of this file (routes.go).
var (
	getLimitDescriptorRoute            = declare("getLimitDescriptor", nil, translator.OpGetLimitDescriptor)
	getPermissionDescriptorRoute       = declare("getPermissionDescriptor", nil, translator.OpGetPermissionDescriptor)
	getClientLimitDescriptorRoute      = declare("getClientLimitDescriptor", nil, translator.OpGetLimitDescriptor)
	getClientPermissionDescriptorRoute = declare("getClientPermissionDescriptor", nil, translator.OpGetPermissionDescriptor)
)

// descriptorKind is "limits" or "permissions".
type descriptorKind string

// cachedDescriptor is a descriptor read as served: from the cache, or fetched
// once (singleflight) and stored, keyed by the caller's identity, the protocol
// version and the filter, so one caller never sees another's rights.
type cachedDescriptor struct {
	entry       store.Entry
	outcome     cacheOutcome
	notModified bool
}

func (s *Server) descriptor(ctx context.Context, rt *route, kind descriptorKind, clientID int64, ifNoneMatch *string) (cachedDescriptor, error) {
	v, err := s.versionFor(ctx, rt.ops...)
	if err != nil {
		return cachedDescriptor{}, err
	}
	key := s.descriptorKey(identityFrom(ctx), kind, v, clientID)
	ctx, span := s.cacheLookupSpan(ctx)
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
		rep, err := translator.ReplyAs[*translator.DescriptorReply](replies[0])
		if err != nil {
			return nil, err
		}
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
		return marshalJSON(toAPIDescriptor(*r.Descriptor))
	})
	if err == nil && outcome == cacheHit {
		err = s.recheckAuth(ctx) // a cached answer only for credentials Plesk vouched for lately (shield.go)
	}
	endCacheLookup(span, outcome, err)
	if err != nil {
		return cachedDescriptor{}, err
	}
	return newCachedDescriptor(entry, outcome, ifNoneMatch), nil
}

func newCachedDescriptor(entry store.Entry, outcome cacheOutcome, ifNoneMatch *string) cachedDescriptor {
	d := cachedDescriptor{entry: entry, outcome: outcome}
	if ifNoneMatch != nil && etagMatches(*ifNoneMatch, entry.ETag) {
		d.notModified = true
	}
	return d
}

// descriptorKey spells a descriptor cache key: whose rights, which
// protocol, which filter. The upstream's URL is part of it: two deployments
// in front of different panels may share one Redis.
func (s *Server) descriptorKey(identity string, kind descriptorKind, v translator.Version, clientID int64) string {
	filter := "server"
	if clientID > 0 {
		filter = "id=" + strconv.FormatInt(clientID, 10)
	}
	return "pleskgate:descriptor:" + s.upstreamID + ":" + identity + ":" + string(kind) + ":" + v.String() + ":" + filter
}

// ttlSeconds is how long an entry has left, in whole seconds, never negative.
func ttlSeconds(e store.Entry) int {
	ttl := int(time.Until(e.Expires).Seconds())
	if ttl < 0 {
		ttl = 0
	}
	return ttl
}

// GetLimitDescriptor implements GET /descriptors/limits (legacy client/get-limit-descriptor, blank filter).
func (s *Server) GetLimitDescriptor(ctx context.Context, req api.GetLimitDescriptorRequestObject) (api.GetLimitDescriptorResponseObject, error) {
	return s.descriptorResponse(ctx, getLimitDescriptorRoute, "limits", 0, req.Params.IfNoneMatch)
}

// GetPermissionDescriptor implements GET /descriptors/permissions (legacy client/get-permission-descriptor, blank filter).
func (s *Server) GetPermissionDescriptor(ctx context.Context, req api.GetPermissionDescriptorRequestObject) (api.GetPermissionDescriptorResponseObject, error) {
	return s.descriptorResponse(ctx, getPermissionDescriptorRoute, "permissions", 0, req.Params.IfNoneMatch)
}

// GetClientLimitDescriptor implements GET /clients/{id}/descriptors/limits (legacy get-limit-descriptor filtered by id).
func (s *Server) GetClientLimitDescriptor(ctx context.Context, req api.GetClientLimitDescriptorRequestObject) (api.GetClientLimitDescriptorResponseObject, error) {
	return s.descriptorResponse(ctx, getClientLimitDescriptorRoute, "limits", req.Id, req.Params.IfNoneMatch)
}

// GetClientPermissionDescriptor implements GET /clients/{id}/descriptors/permissions.
func (s *Server) GetClientPermissionDescriptor(ctx context.Context, req api.GetClientPermissionDescriptorRequestObject) (api.GetClientPermissionDescriptorResponseObject, error) {
	return s.descriptorResponse(ctx, getClientPermissionDescriptorRoute, "permissions", req.Id, req.Params.IfNoneMatch)
}

// descriptorResponse reads a descriptor (cached) as the answer of any of
// the four descriptor operations.
func (s *Server) descriptorResponse(ctx context.Context, rt *route, kind descriptorKind, clientID int64, ifNoneMatch *string) (rawDescriptorResponse, error) {
	d, err := s.descriptor(ctx, rt, kind, clientID, ifNoneMatch)
	if err != nil {
		return rawDescriptorResponse{}, err
	}
	return rawDescriptorResponse{d: d, ttl: ttlSeconds(d.entry)}, nil
}

// rawDescriptorResponse writes a cached descriptor body as stored (a cache
// hit costs no JSON encoding at all), or a 304 when If-None-Match matched.
// It serves all four descriptor operations.
type rawDescriptorResponse struct {
	d   cachedDescriptor
	ttl int // whole seconds the entry has left
}

func (r rawDescriptorResponse) write(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("ETag", r.d.entry.ETag)
	// private: the content depends on the caller's rights.
	h.Set("Cache-Control", "private, max-age="+strconv.Itoa(r.ttl))
	h.Set("Cache-Status", cacheStatusTTL(r.d.outcome, r.ttl))
	if r.d.notModified {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "application/json")
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

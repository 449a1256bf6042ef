package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

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
	op := kind.op()
	v, err := s.versionFor(ctx, op)
	if err != nil {
		return cachedDescriptor{}, err
	}
	key := s.descKeys.get(descKeyParts{identity: identityFrom(ctx), kind: kind, version: v, clientID: clientID}, s.buildDescriptorKey)
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
	d := cachedDescriptor{entry: entry, outcome: outcome}
	if ifNoneMatch != nil && etagMatches(*ifNoneMatch, entry.ETag) {
		d.notModified = true
	}
	return d, nil
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
	ttl := int(time.Until(e.Expires).Seconds())
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
	return rawDescriptorResponse{d: d, hdr: s.descriptorHeaders(d)}, nil
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
func (s *Server) descriptorHeaders(d cachedDescriptor) *descHeaders {
	ttl := ttlSeconds(d.entry)
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

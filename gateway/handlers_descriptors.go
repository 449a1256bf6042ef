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
	filter := translator.Filter{}
	filterKey := "server"
	if clientID > 0 {
		filter = translator.ByID(int(clientID))
		filterKey = "id=" + strconv.FormatInt(clientID, 10)
	}
	// The upstream's URL is part of the key: two deployments in front of
	// different panels may share one Redis.
	key := descriptorKey(s.upstreamID+":"+credentialsFrom(ctx).Identity(), string(kind), v.String(), filterKey)
	entry, outcome, err := s.descriptors.get(ctx, key, func(ctx context.Context) ([]byte, error) {
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

func (d cachedDescriptor) cacheControl() string {
	age := int(time.Until(d.entry.Expires).Seconds())
	if age < 0 {
		age = 0
	}
	// private: the content depends on the caller's rights.
	return "private, max-age=" + strconv.Itoa(age)
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
	return rawDescriptorResponse{d: d}, err
}

// rawDescriptorResponse writes a cached descriptor body as stored (a cache
// hit costs no JSON encoding at all), or a 304 when If-None-Match matched.
// It serves all four descriptor operations.
type rawDescriptorResponse struct{ d cachedDescriptor }

func (r rawDescriptorResponse) write(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("ETag", r.d.entry.ETag)
	h.Set("Cache-Control", r.d.cacheControl())
	h.Set("Cache-Status", cacheStatus(r.d.outcome, r.d.entry))
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

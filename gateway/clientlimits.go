package gateway

// Limits and permissions of a client (legacy client get/set, datasets
// limits and permissions). HTTP server limits are connections.go.

import (
	"context"
	"sort"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

// The routes of this file (routes.go).
var (
	getClientLimitsRoute        = declare("getClientLimits", nil, translator.OpGetLimits)
	patchClientLimitsRoute      = declare("patchClientLimits", nil, translator.OpSetLimits, translator.OpGetLimits)
	getClientPermissionsRoute   = declare("getClientPermissions", nil, translator.OpGetPermissions)
	patchClientPermissionsRoute = declare("patchClientPermissions", nil, translator.OpSetPermissions, translator.OpGetPermissions)
)

// readLegacyBlock reads one legacy-only dataset of one client, in the
// version rt's operations choose.
func (s *Server) readLegacyBlock(ctx context.Context, rt *route, id int64, in include) (translator.GetResult, error) {
	v, err := s.versionFor(ctx, rt.ops...)
	if err != nil {
		return translator.GetResult{}, err
	}
	replies, err := s.send(ctx, v, &translator.GetRequest{Filter: translator.ByID(int(id)), Permissions: in.Permissions, Limits: in.Limits, IPPool: in.IPPool})
	if err != nil {
		return translator.GetResult{}, err
	}
	return firstGet(replies[0])
}

// setLegacyBlock writes limits or permissions of one client (legacy client
// set) and reads the block back in the same packet, in the version rt's
// operations choose.
func (s *Server) setLegacyBlock(ctx context.Context, rt *route, id int64, set *translator.SetRequest, in include) (translator.GetResult, error) {
	v, err := s.versionFor(ctx, rt.ops...)
	if err != nil {
		return translator.GetResult{}, err
	}
	f := translator.ByID(int(id))
	set.Filter = f
	replies, err := s.send(ctx, v, set, &translator.GetRequest{Filter: f, Limits: in.Limits, Permissions: in.Permissions})
	if err != nil {
		return translator.GetResult{}, err
	}
	if _, err := firstResultOf(replies[0]); err != nil {
		return translator.GetResult{}, err
	}
	return firstGet(replies[1])
}

// GetClientLimits implements GET /clients/{id}/limits (legacy client get, dataset limits).
func (s *Server) GetClientLimits(ctx context.Context, req api.GetClientLimitsRequestObject) (api.GetClientLimitsResponseObject, error) {
	r, err := s.readLegacyBlock(ctx, getClientLimitsRoute, req.Id, include{Limits: true})
	if err != nil {
		return nil, err
	}
	return api.GetClientLimits200JSONResponse(toAPILimits(r.Limits)), nil
}

// PatchClientLimits implements PATCH /clients/{id}/limits (legacy client set,
// values/limits): only the limits sent are written; the answer is re-read in
// the same packet.
func (s *Server) PatchClientLimits(ctx context.Context, req api.PatchClientLimitsRequestObject) (api.PatchClientLimitsResponseObject, error) {
	if req.Body == nil || (req.Body.Limits == nil && req.Body.Overuse == nil) {
		return nil, errUnprocessable("send at least one limit or overuse")
	}
	lim := &translator.Limits{}
	if req.Body.Overuse != nil {
		lim.Overuse = string(*req.Body.Overuse)
	}
	if req.Body.Limits != nil {
		names := sortedKeys(req.Body.Limits)
		for _, n := range names {
			lim.Values = append(lim.Values, translator.Limit{Name: n, Value: req.Body.Limits[n]})
		}
	}
	got, err := s.setLegacyBlock(ctx, patchClientLimitsRoute, req.Id, &translator.SetRequest{Limits: lim}, include{Limits: true})
	if err != nil {
		return nil, err
	}
	return api.PatchClientLimits200JSONResponse(toAPILimits(got.Limits)), nil
}

// GetClientPermissions implements GET /clients/{id}/permissions (legacy client get, dataset permissions).
func (s *Server) GetClientPermissions(ctx context.Context, req api.GetClientPermissionsRequestObject) (api.GetClientPermissionsResponseObject, error) {
	r, err := s.readLegacyBlock(ctx, getClientPermissionsRoute, req.Id, include{Permissions: true})
	if err != nil {
		return nil, err
	}
	return api.GetClientPermissions200JSONResponse(toAPIPermissions(r.Permissions)), nil
}

// PatchClientPermissions implements PATCH /clients/{id}/permissions (legacy client set, values/permissions).
func (s *Server) PatchClientPermissions(ctx context.Context, req api.PatchClientPermissionsRequestObject) (api.PatchClientPermissionsResponseObject, error) {
	if req.Body == nil || len(req.Body.Permissions) == 0 {
		return nil, errUnprocessable("send at least one permission")
	}
	var perms []translator.Permission
	for _, n := range sortedKeys(req.Body.Permissions) {
		perms = append(perms, translator.Permission{Name: n, Value: req.Body.Permissions[n]})
	}
	got, err := s.setLegacyBlock(ctx, patchClientPermissionsRoute, req.Id, &translator.SetRequest{Permissions: perms}, include{Permissions: true})
	if err != nil {
		return nil, err
	}
	return api.PatchClientPermissions200JSONResponse(toAPIPermissions(got.Permissions)), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

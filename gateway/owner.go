package gateway

// A client's owner: read it, or hand the client to another (Plesk get,
// change-owner).

import (
	"context"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

// The routes of this file (routes.go).
var (
	getClientOwnerRoute    = declare("getClientOwner", nil, translator.OpGet)
	changeClientOwnerRoute = declare("changeClientOwner", nil, translator.OpChangeOwner, translator.OpGet)
)

// GetClientOwner implements GET /clients/{id}/owner (Plesk get, gen_info owner fields).
func (s *Server) GetClientOwner(ctx context.Context, req api.GetClientOwnerRequestObject) (api.GetClientOwnerResponseObject, error) {
	rec, err := s.readClient(ctx, req.Id, include{})
	if err != nil {
		return nil, err
	}
	return api.GetClientOwner200JSONResponse(toAPIOwner(rec.Info)), nil
}

// ChangeClientOwner implements PUT /clients/{id}/owner (Plesk change-owner,
// 1.6.0.0+); the new owner is re-read in the same packet.
func (s *Server) ChangeClientOwner(ctx context.Context, req api.ChangeClientOwnerRequestObject) (api.ChangeClientOwnerResponseObject, error) {
	if req.Body == nil {
		return nil, errBadRequest("a JSON body with owner_login is required")
	}
	b := req.Body
	co := &translator.ChangeOwnerRequest{Filter: translator.ByID(int(req.Id)), NewOwnerLogin: b.OwnerLogin, PlanName: b.PlanName}
	var err error
	if b.Ipv4Addresses != nil {
		if co.IPv4, err = canonicalIPs(*b.Ipv4Addresses); err != nil {
			return nil, err
		}
	}
	if b.Ipv6Addresses != nil {
		if co.IPv6, err = canonicalIPs(*b.Ipv6Addresses); err != nil {
			return nil, err
		}
	}
	v, err := s.versionFor(ctx, changeClientOwnerRoute.ops...)
	if err != nil {
		return nil, err
	}
	var replies []translator.Reply
	err = s.conditional(ctx, req.Id, req.Params.IfMatch, func(ctx context.Context) (err error) {
		replies, err = s.send(ctx, v, co, &translator.GetRequest{Filter: translator.ByID(int(req.Id)), GenInfo: true})
		return err
	})
	if err != nil {
		return nil, err
	}
	if _, err := firstResultOf(replies[0]); err != nil {
		return nil, err
	}
	got, err := firstGet(replies[1])
	if err != nil {
		return nil, err
	}
	var info translator.ClientInfo
	if got.Client != nil {
		info = *got.Client
	}
	return api.ChangeClientOwner200JSONResponse(toAPIOwner(info)), nil
}

package gateway

import (
	"context"
	"net/netip"
	"sort"
	"strconv"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

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

// readLegacyBlock reads one legacy-only dataset of one client.
func (s *Server) readLegacyBlock(ctx context.Context, id int64, in include) (translator.GetResult, error) {
	v, err := s.versionFor(ctx, in.legacyOps()...)
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
// set) and reads the block back in the same packet.
func (s *Server) setLegacyBlock(ctx context.Context, id int64, set *translator.SetRequest, in include) (translator.GetResult, error) {
	v, err := s.versionFor(ctx, set.Operation(), in.legacyOps()[0])
	if err != nil {
		return translator.GetResult{}, err
	}
	f := translator.ByID(int(id))
	set.Filter = f
	replies, err := s.send(ctx, v, set, &translator.GetRequest{Filter: f, Limits: in.Limits, Permissions: in.Permissions})
	if err != nil {
		return translator.GetResult{}, err
	}
	if _, err := firstResult(replies[0].(*translator.ResultsReply).Results, "client"); err != nil {
		return translator.GetResult{}, err
	}
	return firstGet(replies[1])
}

// GetClientLimits implements GET /clients/{id}/limits (legacy client get, dataset limits).
func (s *Server) GetClientLimits(ctx context.Context, req api.GetClientLimitsRequestObject) (api.GetClientLimitsResponseObject, error) {
	r, err := s.readLegacyBlock(ctx, req.Id, include{Limits: true})
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
	got, err := s.setLegacyBlock(ctx, req.Id, &translator.SetRequest{Limits: lim}, include{Limits: true})
	if err != nil {
		return nil, err
	}
	return api.PatchClientLimits200JSONResponse(toAPILimits(got.Limits)), nil
}

// GetClientPermissions implements GET /clients/{id}/permissions (legacy client get, dataset permissions).
func (s *Server) GetClientPermissions(ctx context.Context, req api.GetClientPermissionsRequestObject) (api.GetClientPermissionsResponseObject, error) {
	r, err := s.readLegacyBlock(ctx, req.Id, include{Permissions: true})
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
	got, err := s.setLegacyBlock(ctx, req.Id, &translator.SetRequest{Permissions: perms}, include{Permissions: true})
	if err != nil {
		return nil, err
	}
	return api.PatchClientPermissions200JSONResponse(toAPIPermissions(got.Permissions)), nil
}

// GetClientIPPool implements GET /clients/{id}/ippool (legacy client get, dataset ippool).
func (s *Server) GetClientIPPool(ctx context.Context, req api.GetClientIPPoolRequestObject) (api.GetClientIPPoolResponseObject, error) {
	r, err := s.readLegacyBlock(ctx, req.Id, include{IPPool: true})
	if err != nil {
		return nil, err
	}
	return api.GetClientIPPool200JSONResponse(toAPIIPPool(r.IPPool)), nil
}

// canonicalIP parses an address and returns it in the one form Plesk
// compares against (2001:DB8::10 and 2001:db8::10 are the same address).
func canonicalIP(s string) (string, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", errUnprocessable("not an IP address: "+strconv.Quote(s), FieldError{Field: "ip_address", Message: "not an IPv4 or IPv6 address"})
	}
	return a.Unmap().String(), nil
}

// canonicalIPs canonicalises a list and drops repeats.
func canonicalIPs(ips []string) ([]string, error) {
	out := make([]string, 0, len(ips))
	seen := map[string]bool{}
	for _, ip := range ips {
		c, err := canonicalIP(ip)
		if err != nil {
			return nil, err
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

// AddClientIP implements POST /clients/{id}/ippool (legacy client/ippool_add_ip);
// the pool is re-read in the same packet.
func (s *Server) AddClientIP(ctx context.Context, req api.AddClientIPRequestObject) (api.AddClientIPResponseObject, error) {
	if req.Body == nil {
		return nil, errBadRequest("a JSON body with ip_address is required")
	}
	ip, err := canonicalIP(req.Body.IpAddress)
	if err != nil {
		return nil, err
	}
	v, err := s.versionFor(ctx, translator.OpIPPoolAddIP, translator.OpGetIPPool)
	if err != nil {
		return nil, err
	}
	replies, err := s.send(ctx, v,
		&translator.IPPoolAddRequest{ClientID: int(req.Id), IPs: []string{ip}},
		&translator.GetRequest{Filter: translator.ByID(int(req.Id)), IPPool: true})
	if err != nil {
		return nil, err
	}
	if err := ipPoolErr(replies[0]); err != nil {
		return nil, err
	}
	got, err := firstGet(replies[1])
	if err != nil {
		return nil, err
	}
	return api.AddClientIP201JSONResponse{Body: toAPIIPPool(got.IPPool)}, nil
}

// RemoveClientIP implements DELETE /clients/{id}/ippool/{ip} (legacy client/ippool_del_ip).
func (s *Server) RemoveClientIP(ctx context.Context, req api.RemoveClientIPRequestObject) (api.RemoveClientIPResponseObject, error) {
	ip, err := canonicalIP(req.Ip)
	if err != nil {
		return nil, err
	}
	v, err := s.versionFor(ctx, translator.OpIPPoolDelIP)
	if err != nil {
		return nil, err
	}
	replies, err := s.send(ctx, v, &translator.IPPoolDelRequest{ClientID: int(req.Id), IPs: []string{ip}})
	if err != nil {
		return nil, err
	}
	if err := ipPoolErr(replies[0]); err != nil {
		return nil, err
	}
	return api.RemoveClientIP204Response{}, nil
}

func ipPoolErr(r translator.Reply) error {
	rep := r.(*translator.IPPoolReply)
	if len(rep.Results) == 0 {
		return errNotFound("client not found")
	}
	for _, res := range rep.Results {
		if err := res.Result.Err(); err != nil {
			return err
		}
	}
	return nil
}

// firstGet returns the first result of a get reply, or its error.
func firstGet(r translator.Reply) (translator.GetResult, error) {
	rep := r.(*translator.GetReply)
	if len(rep.Results) == 0 {
		return translator.GetResult{}, errNotFound("client not found")
	}
	return rep.Results[0], rep.Results[0].Result.Err()
}

// ListClientButtons implements GET /clients/{id}/buttons (legacy client/cform_buttons_list).
func (s *Server) ListClientButtons(ctx context.Context, req api.ListClientButtonsRequestObject) (api.ListClientButtonsResponseObject, error) {
	v, err := s.versionFor(ctx, translator.OpButtonsList)
	if err != nil {
		return nil, err
	}
	replies, err := s.send(ctx, v, &translator.ButtonsListRequest{Filter: translator.ByID(int(req.Id))})
	if err != nil {
		return nil, err
	}
	rep := replies[0].(*translator.ButtonsReply)
	if len(rep.Results) == 0 {
		return nil, errNotFound("client not found")
	}
	if err := rep.Results[0].Result.Err(); err != nil {
		return nil, err
	}
	return api.ListClientButtons200JSONResponse(toAPIButtons(rep.Results[0].Buttons)), nil
}

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
	v, err := s.versionFor(ctx, translator.OpChangeOwner, translator.OpGet)
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
	if _, err := firstResult(replies[0].(*translator.ResultsReply).Results, "client"); err != nil {
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

// ConvertClientToReseller implements POST /clients/{id}/convert-to-reseller
// (Plesk convert-to-reseller, 1.6.0.0+). The login is read first, in the same
// packet, because afterwards the object is no longer a client.
func (s *Server) ConvertClientToReseller(ctx context.Context, req api.ConvertClientToResellerRequestObject) (api.ConvertClientToResellerResponseObject, error) {
	var plan *string
	if req.Body != nil {
		plan = req.Body.ResellerPlanName
	}
	v, err := s.versionFor(ctx, translator.OpConvertToReseller, translator.OpGet)
	if err != nil {
		return nil, err
	}
	f := translator.ByID(int(req.Id))
	replies, err := s.send(ctx, v, &translator.GetRequest{Filter: f, GenInfo: true}, &translator.ConvertToResellerRequest{Filter: f, ResellerPlanName: plan})
	if err != nil {
		return nil, err
	}
	got, err := firstGet(replies[0])
	if err != nil {
		return nil, err
	}
	res, err := firstResult(replies[1].(*translator.ResultsReply).Results, "client")
	if err != nil {
		return nil, err
	}
	out := api.Conversion{Id: int64(res.ID), ResellerPlanName: plan}
	if out.Id == 0 {
		out.Id = req.Id
	}
	if got.Client != nil {
		login := got.Client.Login
		out.Login = &login
	}
	return api.ConvertClientToReseller200JSONResponse(out), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func errMissingBlock(name string) error {
	return &Error{Status: 502, Slug: "bad-upstream-answer", Title: "Malformed answer from Plesk", Detail: "Plesk's answer lacks the " + name + " block"}
}

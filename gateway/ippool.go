package gateway

// A client's IP pool (legacy client get dataset ippool, ippool_add_ip,
// ippool_del_ip), and IP addresses in the one form Plesk compares.

import (
	"context"
	"encoding/json"
	"net/netip"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

// The routes of this file (routes.go).
var (
	getClientIPPoolRoute = declare("getClientIPPool", nil, translator.OpGetIPPool)
	addClientIPRoute     = declare("addClientIP", (*Server).reconcileAddClientIP, translator.OpIPPoolAddIP, translator.OpGetIPPool)
	removeClientIPRoute  = declare("removeClientIP", nil, translator.OpIPPoolDelIP)
)

// GetClientIPPool implements GET /clients/{id}/ippool (legacy client get, dataset ippool).
func (s *Server) GetClientIPPool(ctx context.Context, req api.GetClientIPPoolRequestObject) (api.GetClientIPPoolResponseObject, error) {
	r, err := s.readLegacyBlock(ctx, getClientIPPoolRoute, req.Id, include{IPPool: true})
	if err != nil {
		return nil, err
	}
	return api.GetClientIPPool200JSONResponse(toAPIIPPool(r.IPPool)), nil
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
	v, err := s.versionFor(ctx, addClientIPRoute.ops...)
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
	v, err := s.versionFor(ctx, removeClientIPRoute.ops...)
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
	rep, err := translator.ReplyAs[*translator.IPPoolReply](r)
	if err != nil {
		return err
	}
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

// reconcileAddClientIP reconciles a keyed POST /clients/{id}/ippool whose
// ippool_add_ip got no answer: the client's IP pool is read; when the
// address is in it, the answer is the 201 with the pool.
func (s *Server) reconcileAddClientIP(c echo.Context, body []byte) (bool, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return false, nil
	}
	var b struct {
		IPAddress string `json:"ip_address"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return false, nil
	}
	ip, err := canonicalIP(b.IPAddress)
	if err != nil {
		return false, nil // the handler refuses it
	}
	got, err := s.readLegacyBlock(c.Request().Context(), getClientIPPoolRoute, id, include{IPPool: true})
	if err != nil {
		return false, err
	}
	for _, p := range got.IPPool {
		if a, err := canonicalIP(p.Address); err == nil && a == ip {
			return true, api.AddClientIP201JSONResponse{Body: toAPIIPPool(got.IPPool),
				Headers: api.AddClientIP201ResponseHeaders{IdempotentReconciled: reconciledTrue()}}.VisitAddClientIPResponse(c.Response())
		}
	}
	return false, nil
}

package gateway

// Converting a client to a reseller (Plesk convert-to-reseller).

import (
	"context"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

// The route of this file (routes.go).
var convertClientToResellerRoute = declare("convertClientToReseller", (*Server).reconcileConvertClientToReseller,
	translator.OpConvertToReseller, translator.OpGet)

// ConvertClientToReseller implements POST /clients/{id}/convert-to-reseller
// (Plesk convert-to-reseller, 1.6.0.0+). The login is read first, in the same
// packet, because afterwards the object is no longer a client.
func (s *Server) ConvertClientToReseller(ctx context.Context, req api.ConvertClientToResellerRequestObject) (api.ConvertClientToResellerResponseObject, error) {
	var plan *string
	if req.Body != nil {
		plan = req.Body.ResellerPlanName
	}
	v, err := s.versionFor(ctx, convertClientToResellerRoute.ops...)
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
	res, err := firstResultOf(replies[1])
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
	return api.ConvertClientToReseller200JSONResponse{Body: out}, nil // Idempotent-Recorded: set by the idempotency layer
}

// reconcileConvertClientToReseller reconciles a keyed conversion that got no
// answer: the client is read by id; still a client, the conversion did not
// happen and is sent. Gone, the gateway cannot read resellers to confirm the
// conversion: 409 idempotency-outcome-unknown, nothing sent.
func (s *Server) reconcileConvertClientToReseller(c echo.Context, _ []byte) (bool, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return false, nil
	}
	recs, _, err := s.readClients(c.Request().Context(), translator.ByID(int(id)), include{})
	if err != nil {
		return false, err
	}
	for _, rec := range recs {
		if int64(rec.ID) == id {
			return false, nil // still a client: the conversion did not happen
		}
	}
	return false, errOutcomeUnknown("the conversion sent with this Idempotency-Key got no answer from Plesk, and client " + strconv.FormatInt(id, 10) +
		" is no longer a client, which is what a conversion does; the gateway cannot read resellers to confirm it, so nothing was sent again. Check the reseller in Plesk")
}

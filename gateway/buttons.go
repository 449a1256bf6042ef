package gateway

// A client's custom buttons (legacy client cform_buttons_list).

import (
	"context"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

// The route of this file (routes.go).
var listClientButtonsRoute = declare("listClientButtons", nil, translator.OpButtonsList)

// ListClientButtons implements GET /clients/{id}/buttons (legacy client/cform_buttons_list).
func (s *Server) ListClientButtons(ctx context.Context, req api.ListClientButtonsRequestObject) (api.ListClientButtonsResponseObject, error) {
	rep, err := sendAlone[*translator.ButtonsReply](ctx, s, listClientButtonsRoute, &translator.ButtonsListRequest{Filter: translator.ByID(int(req.Id))})
	if err != nil {
		return nil, err
	}
	r, err := first(rep.Results)
	if err != nil {
		return nil, err
	}
	return api.ListClientButtons200JSONResponse(toAPIButtons(r.Buttons)), nil
}

package gateway

import (
	"context"
	"net/http"

	"github.com/pleskgate/pleskgate/api"
)

// placeholder until the route declaration lands
//
// ListClientDomains is GET /clients/{id}/domains (customer get-domain-list,
// translator.DomainListRequest). Until its handler is declared with its
// operation, it answers 501 without sending a packet.
func (s *Server) ListClientDomains(ctx context.Context, req api.ListClientDomainsRequestObject) (api.ListClientDomainsResponseObject, error) {
	return nil, &Error{Status: http.StatusNotImplemented, Slug: "not-implemented", Title: "Not supported by the Plesk server",
		Detail: "customer/get-domain-list: GET /clients/{id}/domains is not wired in this build of the gateway yet"}
}

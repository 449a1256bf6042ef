package gateway

import (
	"context"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

// listClientDomainsRoute: one read, customer get-domain-list.
var listClientDomainsRoute = declare("listClientDomains", nil, translator.OpGetDomainList)

// ListClientDomains implements GET /clients/{id}/domains (customer
// get-domain-list, 1.6.8.0+): the client's domains as Plesk lists them. A
// reseller sees only its own clients' domains because Plesk answers the
// others' as not found.
func (s *Server) ListClientDomains(ctx context.Context, req api.ListClientDomainsRequestObject) (api.ListClientDomainsResponseObject, error) {
	rep, err := sendAlone[*translator.DomainListReply](ctx, s, listClientDomainsRoute, &translator.DomainListRequest{Filter: translator.ByID(int(req.Id))})
	if err != nil {
		return nil, err
	}
	r, err := first(rep.Results)
	if err != nil {
		return nil, err
	}
	return api.ListClientDomains200JSONResponse(toAPIDomains(r.Domains)), nil
}

// toAPIDomains maps get-domain-list's domains to the API's, in Plesk's order.
func toAPIDomains(ds []translator.Domain) api.ClientDomains {
	out := api.ClientDomains{Domains: make([]api.ClientDomain, 0, len(ds))}
	for _, d := range ds {
		cd := api.ClientDomain{Id: int64(d.ID), Name: d.Name, AsciiName: d.ASCIIName, Type: d.Type,
			Main: d.Main, Guid: d.GUID, ExternalId: d.ExternalID}
		if d.ParentID != nil {
			p := int64(*d.ParentID)
			cd.ParentId = &p
		}
		out.Domains = append(out.Domains, cd)
	}
	return out
}

package gateway

import (
	"context"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

// GetMeta implements GET /meta: the upstream's versions and, for every
// declared route (routes.go), in openapi.yaml's order, the protocol version
// its operations are sent in (or that none has them).
func (s *Server) GetMeta(ctx context.Context, _ api.GetMetaRequestObject) (api.GetMetaResponseObject, error) {
	if s.cfg.AuthMode == AuthPassthrough {
		// Once versions are learned nothing else would reach Plesk, so ask
		// it to check these credentials: /meta is not for anonymous eyes.
		if _, err := s.upstream.Protos(ctx, credentialsFrom(ctx)); err != nil {
			return nil, err
		}
	}
	vs, err := s.versions(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(vs))
	newest := vs[0]
	for i, v := range vs {
		names[i] = v.String()
		if v.AtLeast(newest) {
			newest = v
		}
	}
	newestName := newest.String()
	out := api.Meta{
		Upstream:      s.cfg.UpstreamLabel,
		ProtocolMode:  api.MetaProtocolMode(s.cfg.Protocol.Mode()),
		Versions:      names,
		NewestVersion: &newestName,
		Operations:    make([]api.MetaOperation, 0, len(routesInSpecOrder())),
	}
	for _, ro := range routesInSpecOrder() {
		// Unsupported operations are reported in the newest version's dialect.
		mo := api.MetaOperation{OperationId: ro.id, Supported: false, Dialect: api.MetaOperationDialect(newest.Dialect().String())}
		v, err := s.versionFor(ctx, ro.ops...)
		if err == nil {
			vn := v.String()
			mo.Version = &vn
			mo.Supported = true
			mo.PleskOperation = ro.ops[0].Op().Operator(v) + "/" + ro.element() // the operator the route's first operation is sent under at v
			mo.Dialect = api.MetaOperationDialect(v.Dialect().String())
		} else {
			mo.PleskOperation = ro.element()
			reason := err.Error()
			mo.Reason = &reason
			if le, ok := legacyRefusalOf(err); ok {
				learned := le.rec.LearnedAt.UTC()
				mo.LearnedAt = &learned
				mo.PleskOperation = translator.DialectClient.Operator() + "/" + ro.element()
				mo.Dialect = api.MetaOperationDialect(translator.DialectClient.String())
				mo.Version = nil
			}
		}
		out.Operations = append(out.Operations, mo)
	}
	return api.GetMeta200JSONResponse(out), nil
}

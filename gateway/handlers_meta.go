package gateway

import (
	"context"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

// restOperations maps each REST operation to the Plesk operations it sends
// together in one packet, for version choice and GET /meta.
var restOperations = []struct {
	id    string
	plesk string // operation element, for people reading /meta
	ops   []translator.Operation
}{
	{"listClients", "get", []translator.Operation{translator.OpGet}},
	{"createClient", "add", []translator.Operation{translator.OpAdd, translator.OpGet}},
	{"createClientsBatch", "add", []translator.Operation{translator.OpAdd, translator.OpGet}},
	{"deleteClients", "del", []translator.Operation{translator.OpDel}},
	{"getClient", "get", []translator.Operation{translator.OpGet}},
	{"patchClient", "set", []translator.Operation{translator.OpSet, translator.OpGet}},
	{"deleteClient", "del", []translator.Operation{translator.OpDel}},
	{"getClientStat", "get", []translator.Operation{translator.OpGet}},
	{"getClientLimits", "get", []translator.Operation{translator.OpGetLimits}},
	{"patchClientLimits", "set", []translator.Operation{translator.OpSetLimits, translator.OpGetLimits}},
	{"getClientPermissions", "get", []translator.Operation{translator.OpGetPermissions}},
	{"patchClientPermissions", "set", []translator.Operation{translator.OpSetPermissions, translator.OpGetPermissions}},
	{"getClientIPPool", "get", []translator.Operation{translator.OpGetIPPool}},
	{"addClientIP", "ippool_add_ip", []translator.Operation{translator.OpIPPoolAddIP, translator.OpGetIPPool}},
	{"removeClientIP", "ippool_del_ip", []translator.Operation{translator.OpIPPoolDelIP}},
	{"listClientButtons", "cform_buttons_list", []translator.Operation{translator.OpButtonsList}},
	{"getClientOwner", "get", []translator.Operation{translator.OpGet}},
	{"changeClientOwner", "change-owner", []translator.Operation{translator.OpChangeOwner, translator.OpGet}},
	{"convertClientToReseller", "convert-to-reseller", []translator.Operation{translator.OpConvertToReseller, translator.OpGet}},
	{"getLimitDescriptor", "get-limit-descriptor", []translator.Operation{translator.OpGetLimitDescriptor}},
	{"getPermissionDescriptor", "get-permission-descriptor", []translator.Operation{translator.OpGetPermissionDescriptor}},
	{"getClientLimitDescriptor", "get-limit-descriptor", []translator.Operation{translator.OpGetLimitDescriptor}},
	{"getClientPermissionDescriptor", "get-permission-descriptor", []translator.Operation{translator.OpGetPermissionDescriptor}},
}

// GetMeta implements GET /meta: the upstream's versions and, for every REST
// operation, the protocol version it is sent in (or that none has it).
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
		Operations:    make([]api.MetaOperation, 0, len(restOperations)),
	}
	for _, ro := range restOperations {
		// Unsupported operations are reported in the newest version's dialect.
		mo := api.MetaOperation{OperationId: ro.id, Supported: false, Dialect: api.MetaOperationDialect(newest.Dialect().String())}
		v, err := s.versionFor(ctx, ro.ops...)
		if err == nil {
			vn := v.String()
			mo.Version = &vn
			mo.Supported = true
			mo.PleskOperation = v.Dialect().Operator() + "/" + ro.plesk
			mo.Dialect = api.MetaOperationDialect(v.Dialect().String())
		} else {
			mo.PleskOperation = ro.plesk
			reason := err.Error()
			mo.Reason = &reason
			if le, ok := legacyRefusalOf(err); ok {
				learned := le.rec.LearnedAt.UTC()
				mo.LearnedAt = &learned
				mo.PleskOperation = translator.DialectClient.Operator() + "/" + ro.plesk
				mo.Dialect = api.MetaOperationDialect(translator.DialectClient.String())
				mo.Version = nil
			}
		}
		out.Operations = append(out.Operations, mo)
	}
	return api.GetMeta200JSONResponse(out), nil
}

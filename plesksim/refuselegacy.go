package plesksim

import "fmt"

// Two switches make the simulator a panel that lists the old protocol
// versions in get_protos but refuses the legacy client operator in them:
//
//   - Config.RefuseLegacy refuses every <client> packet with a system 1014,
//     as Plesk Obsidian 18.0.41 refuses an unversioned <client>
//     (PROTOCOL.md §15 REC-2). Whether a real modern panel does this under
//     a declared old version is not known (§8 [INF]).
//   - Config.RefuseLegacyResult accepts the packet and answers each
//     <client> operation with a result-level 1017 naming the packet's
//     version, as Plesk 17.8.11 answered an operation at an outdated
//     version (REC-3, REC-4): the form to expect from Plesk 17.8 on.
//
// Either lets the gateway's handling of such a panel be tested end to end.

// refuseLegacyText is REC-2's errtext after "Error in line N: ", verbatim.
const refuseLegacyText = "Element 'client': This element is not expected. Expected is one of ( request-settings, server, customer, webspace, subdomain, dns, db_server, mail, certificate, site-alias )."

// errFeatureUnsupported is 1017, "Feature not supported by the current
// version of XML API." (PROTOCOL.md §9).
const errFeatureUnsupported = 1017

// refuseLegacyOperator returns the system 1014 REC-2 recorded when the
// packet holds a <client> operator, and false otherwise.
func refuseLegacyOperator(echo string, root *node) ([]byte, bool) {
	for _, op := range root.children {
		if op.name == "client" {
			return systemError(echo, errParse, fmt.Sprintf("Parser error: Request is invalid. Error in line %d: %s", op.line, refuseLegacyText)), true
		}
	}
	return nil, false
}

// refuseLegacyResult writes REC-3's answer to one operation: its text
// verbatim with the packet's version in it. REC-3 quotes only errcode and
// errtext, so the result carries nothing else (no filter-id, no id)
// [GUESS]. Only the <client> operator (packets below 1.6.3.0) is refused
// here, so that the sandbox's modern endpoints keep working; REC-3 shows
// 17.8.11 refusing 1.6.3.0 as well, which a gateway never sends when the
// panel lists newer versions.
func (x *opctx) refuseLegacyResult() {
	x.w.errResult(errFeatureUnsupported, fmt.Sprintf("This feature is not supported for protocol version %s.", x.v), nil)
}

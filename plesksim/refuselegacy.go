package plesksim

import "fmt"

// With Config.RefuseLegacy the simulator is a panel that lists the old
// protocol versions in get_protos but refuses the legacy client operator in
// every one of them, as Plesk Obsidian 18.0.41 refuses an unversioned
// <client> (PROTOCOL.md §15 REC-2). Whether a real modern panel does this
// under a declared old version is not known (§8 [INF]); the switch lets the
// gateway's handling of that case be tested end to end.

// refuseLegacyText is REC-2's errtext after "Error in line N: ", verbatim.
const refuseLegacyText = "Element 'client': This element is not expected. Expected is one of ( request-settings, server, customer, webspace, subdomain, dns, db_server, mail, certificate, site-alias )."

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

package translator

import (
	"errors"
	"regexp"
)

// clientNotExpected matches Plesk's parser saying the client operator has no
// place in the schema it validated the packet against. REC-2 (PROTOCOL.md
// §15, Plesk Obsidian 18.0.41): "Parser error: Request is invalid. Error in
// line 2: Element 'client': This element is not expected. Expected is one of
// ( request-settings, server, customer, … )." The quotes may be any kind
// and libxml2 may put a namespace in braces before the name.
var clientNotExpected = regexp.MustCompile(`(?i)element\s+['"‘“]?(\{[^}]*\})?client['"’”]?\s*:[^.]*not expected`)

// LegacyRefusal reports whether err, Plesk's answer to a packet sent at
// protocol v, shows that the panel does not take the legacy client operator
// under v (DESIGN.md §2, "When a panel refuses the legacy operator"). It is
// the one place this rule lives. It returns the Plesk error when it does.
//
// Only packet-level (system) errors count, and only for a packet in the
// legacy dialect (v < 1.6.3.0):
//   - 1014 whose text names the client element as not expected: what
//     Obsidian answers an unversioned <client> (REC-2, §15). Other 1014s
//     (a bad value, §15 REC-3) are a packet the gateway built wrong, not a
//     refusal of the operator.
//   - 1005 "XML API version not supported" (§9): the legacy version itself
//     is refused, so nothing can be sent in it.
//   - 1017 "Feature not supported by the current version of XML API" (§9)
//     as a system error: the whole packet, in that version, is refused. (A
//     1017 in one <result> is that operation's own answer and does not count.)
func LegacyRefusal(v Version, err error) (*Error, bool) {
	if err == nil || v.Dialect() != DialectClient {
		return nil, false
	}
	var perr *Error
	if !errors.As(err, &perr) || !perr.System {
		return nil, false
	}
	switch perr.Code {
	case CodeParseError:
		return perr, clientNotExpected.MatchString(perr.Text)
	case CodeVersionUnsupported, CodeFeatureUnsupported:
		return perr, true
	}
	return nil, false
}

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

// versionNamed finds the protocol version a 1017's text names. REC-3
// (PROTOCOL.md §15, Plesk 17.8.11) recorded, for a get sent at 1.6.3.0, the
// result-level "This feature is not supported for protocol version
// 1.6.3.0.".
//
// [GUESS] That one recorded text is all the evidence for this rule: that
// a panel which dropped an old protocol version says so per operation in
// these words, naming the packet's version. The match asks only for
// "protocol version" followed by a version (any case and spacing), and the
// version must be the packet's, so that a 1017 about something else (a
// field, an object, the current version) is not taken for a refusal of the
// whole version.
var versionNamed = regexp.MustCompile(`(?i)\bprotocol\s+version\s+(\d+(?:\.\d+)*)`)

// namesVersion reports whether text names protocol version v as in REC-3.
func namesVersion(text string, v Version) bool {
	for _, m := range versionNamed.FindAllStringSubmatch(text, -1) {
		if named, err := ParseVersion(m[1]); err == nil && named.Compare(v) == 0 {
			return true
		}
	}
	return false
}

// LegacyRefusal reports whether err, Plesk's answer to a packet sent at
// protocol v, shows that the panel does not take the legacy client operator
// under v (DESIGN.md §2, "When a panel refuses the legacy operator"). It is
// the one place this rule lives. It returns the Plesk error when it does.
//
// Only a packet in the legacy dialect (v < 1.6.3.0) counts, and only these
// answers:
//   - system 1014 whose text names the client element as not expected: what
//     Obsidian answers an unversioned <client> (REC-2, §15). Other 1014s
//     (a bad value, §15 REC-3) are a packet the gateway built wrong, not a
//     refusal of the operator.
//   - system 1005 "XML API version not supported" (§9): the legacy version
//     itself is refused, so nothing can be sent in it.
//   - system 1017 "Feature not supported by the current version of XML API"
//     (§9): the whole packet, in that version, is refused.
//   - 1017 in one <result> whose text names v as the unsupported protocol
//     version (versionNamed): what Plesk 17.8.11 answered an operation at
//     an outdated version whose envelope it accepted (REC-3, REC-4). Any
//     other result-level 1017 is that operation's own answer.
func LegacyRefusal(v Version, err error) (*Error, bool) {
	if err == nil || v.Dialect() != DialectClient {
		return nil, false
	}
	var perr *Error
	if !errors.As(err, &perr) {
		return nil, false
	}
	if !perr.System {
		return perr, perr.Code == CodeFeatureUnsupported && namesVersion(perr.Text, v)
	}
	switch perr.Code {
	case CodeParseError:
		return perr, clientNotExpected.MatchString(perr.Text)
	case CodeVersionUnsupported, CodeFeatureUnsupported:
		return perr, true
	}
	return nil, false
}

// LegacyRefusalIn reports whether replies, the decoded answer to a packet
// sent at v, show a refusal of the legacy operator in one of their results
// (LegacyRefusal), and returns the first such result's error.
//
// The packet counts as refused only when no result in it is ok: if an
// operation of the packet ran (a write went through), the caller must get
// its answer rather than a refusal, and the refusal is learned from a later
// packet.
func LegacyRefusalIn(v Version, replies []Reply) (*Error, bool) {
	if v.Dialect() != DialectClient {
		return nil, false
	}
	var refused *Error
	ranOne := false
	see := func(r Result) {
		if r.OK() {
			ranOne = true
			return
		}
		if refused == nil {
			if perr, ok := LegacyRefusal(v, r.Err()); ok {
				refused = perr
			}
		}
	}
	for _, reply := range replies {
		if rr, ok := reply.(replyReader); ok { // every Reply is: read unexported
			rr.eachResult(see)
		}
	}
	return refused, refused != nil && !ranOne
}

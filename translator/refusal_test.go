package translator

import (
	"fmt"
	"testing"
)

// rec2Text is REC-2's errtext (PROTOCOL.md §15), verbatim.
const rec2Text = "Parser error: Request is invalid. Error in line 2: Element 'client': This element is not expected. Expected is one of ( request-settings, server, customer, webspace, subdomain, dns, db_server, mail, certificate, site-alias )."

func TestLegacyRefusal(t *testing.T) {
	legacy, modern := MustParseVersion("1.6.0.2"), MustParseVersion("1.6.9.1")
	cases := []struct {
		name string
		v    Version
		err  error
		want bool
	}{
		{"REC-2 1014 naming client", legacy, &Error{Code: 1014, Text: rec2Text, System: true}, true},
		{"1014 with double quotes and a namespace", legacy, &Error{Code: 1014, Text: `Element "{urn:x}client": This element is not expected.`, System: true}, true},
		{"wrapped", legacy, fmt.Errorf("call: %w", &Error{Code: 1014, Text: rec2Text, System: true}), true},
		{"1005 for the legacy version", legacy, &Error{Code: 1005, Text: "XML API version not supported.", System: true}, true},
		{"system 1017", legacy, &Error{Code: 1017, Text: "This feature is not supported for protocol version 1.6.0.2.", System: true}, true},
		{"result 1017 is the operation's answer", legacy, &Error{Code: 1017, Text: "not supported"}, false},
		{"1014 about a value (REC-3)", legacy, &Error{Code: 1014, Text: "Error in line 5: Element 'id': '' is not a valid value of the atomic type 'id_type'.", System: true}, false},
		{"1014 naming another element", legacy, &Error{Code: 1014, Text: "Element 'clients': This element is not expected.", System: true}, false},
		{"1014 naming client but another complaint", legacy, &Error{Code: 1014, Text: "Element 'client': Missing child element(s).", System: true}, false},
		{"modern packet", modern, &Error{Code: 1014, Text: rec2Text, System: true}, false},
		{"modern 1005", modern, &Error{Code: 1005, System: true}, false},
		{"other system error", legacy, &Error{Code: 1001, Text: "Authentication failed", System: true}, false},
		{"not a plesk error", legacy, fmt.Errorf("dial tcp: refused"), false},
		{"nil", legacy, nil, false},
	}
	for _, c := range cases {
		perr, got := LegacyRefusal(c.v, c.err)
		if got != c.want {
			t.Errorf("%s: LegacyRefusal = %v, want %v", c.name, got, c.want)
		}
		if got && perr == nil {
			t.Errorf("%s: refusal without the Plesk error", c.name)
		}
	}
}

package translator

import (
	"encoding/xml"
	"fmt"
)

// packetXML is the request envelope (§1.2). No XML declaration is written
// (encoding/xml never writes one and Plesk does not need it), and no
// request-settings.
type packetXML struct {
	XMLName  xml.Name    `xml:"packet"`
	Version  string      `xml:"version,attr,omitempty"`
	Operator operatorXML // name set from the dialect
}

type operatorXML struct {
	XMLName xml.Name
	Ops     []any // each value's XMLName tag names its operation element
}

// EncodeRequest builds one <packet version="v"> holding reqs, in order, under
// ONE operator element: <client> for v < 1.6.3.0, <customer> otherwise (§8).
// Output is compact and deterministic. An operation, field or filter kind v
// lacks gives an *UnsupportedError; invalid input (missing login, two owners,
// bad filter value, text XML cannot carry) gives an error wrapping
// ErrInvalidInput. No packet is returned with an error.
func EncodeRequest(v Version, reqs ...Request) ([]byte, error) {
	if v.IsZero() {
		return nil, fmt.Errorf("%w: no protocol version", ErrInvalidInput)
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%w: no requests", ErrInvalidInput)
	}
	p := packetXML{Version: v.String()}
	p.Operator.XMLName.Local = v.Dialect().Operator()
	for i, r := range reqs {
		if r == nil {
			return nil, fmt.Errorf("%w: request %d is nil", ErrInvalidInput, i)
		}
		if !v.Supports(r.Operation()) {
			return nil, &UnsupportedError{Operation: r.Operation(), Version: v}
		}
		op, err := r.build(v)
		if err != nil {
			return nil, err
		}
		p.Operator.Ops = append(p.Operator.Ops, op)
	}
	return xml.Marshal(p)
}

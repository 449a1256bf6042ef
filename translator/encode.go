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
	Operator operatorXML // named by the operations' Op
}

type operatorXML struct {
	XMLName xml.Name
	Ops     []operationXML
}

// operationXML is one operation element: its name from the Op, its content
// the wire value the request built.
type operationXML struct {
	element string
	body    any
}

func (o operationXML) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	return e.EncodeElement(o.body, xml.StartElement{Name: xml.Name{Local: o.element}})
}

// EncodeRequest builds one <packet version="v"> holding reqs, in order, under
// ONE operator element, the one their operations have at v: <client> for
// v < 1.6.3.0, <customer> otherwise (§8). Output is compact and
// deterministic. An operation, field or filter kind v lacks gives an
// *UnsupportedError; invalid input (missing login, two owners, bad filter
// value, text XML cannot carry, operations under different operators) gives
// an error wrapping ErrInvalidInput. No packet is returned with an error.
func EncodeRequest(v Version, reqs ...Request) ([]byte, error) {
	if v.IsZero() {
		return nil, fmt.Errorf("%w: no protocol version", ErrInvalidInput)
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%w: no requests", ErrInvalidInput)
	}
	p := packetXML{Version: v.String()}
	p.Operator.Ops = make([]operationXML, len(reqs))
	for i, r := range reqs {
		if r == nil {
			return nil, fmt.Errorf("%w: request %d is nil", ErrInvalidInput, i)
		}
		op := r.Op()
		if !op.SupportedBy(v) {
			return nil, &UnsupportedError{Operation: op.name, Version: v}
		}
		if i == 0 {
			p.Operator.XMLName.Local = op.Operator(v)
		} else if op.Operator(v) != p.Operator.XMLName.Local {
			return nil, fmt.Errorf("%w: %s is sent under <%s>, not <%s>: not in one packet", ErrInvalidInput, op.name, op.Operator(v), p.Operator.XMLName.Local)
		}
		body, err := r.build(v)
		if err != nil {
			return nil, err
		}
		p.Operator.Ops[i] = operationXML{element: op.element, body: body}
	}
	return xml.Marshal(p)
}

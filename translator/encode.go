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
//
// The packet is appended by hand (append.go) from the wire structs build
// returns; marshalPacket, the encoding/xml rendering of the same structs, is
// the reference the tests hold it to byte for byte, and the fallback for any
// wire value the appender does not know.
func EncodeRequest(v Version, reqs ...Request) ([]byte, error) {
	bp := getEncodeBuf()
	defer putEncodeBuf(bp)
	b, handled, err := appendPacket((*bp)[:0], v, reqs)
	*bp = b // keep the grown buffer for the next packet
	if err != nil {
		return nil, err
	}
	if !handled {
		return marshalPacket(v, reqs)
	}
	// The scratch buffer goes back to the pool: return an exact-size copy.
	out := make([]byte, len(b))
	copy(out, b)
	return out, nil
}

// checkRequest is the per-request check shared by both encoders, so they
// cannot disagree on which error a packet gets.
func checkRequest(v Version, i int, r Request) error {
	if r == nil {
		return fmt.Errorf("%w: request %d is nil", ErrInvalidInput, i)
	}
	if !v.Supports(r.Operation()) {
		return &UnsupportedError{Operation: r.Operation(), Version: v}
	}
	return nil
}

// checkPacket is the envelope check shared by both encoders.
func checkPacket(v Version, reqs []Request) error {
	if v.IsZero() {
		return fmt.Errorf("%w: no protocol version", ErrInvalidInput)
	}
	if len(reqs) == 0 {
		return fmt.Errorf("%w: no requests", ErrInvalidInput)
	}
	return nil
}

// marshalPacket is the encoding/xml encoder: the oracle for appendPacket and
// its fallback.
func marshalPacket(v Version, reqs []Request) ([]byte, error) {
	if err := checkPacket(v, reqs); err != nil {
		return nil, err
	}
	p := packetXML{Version: v.String()}
	p.Operator.XMLName.Local = v.Dialect().Operator()
	for i, r := range reqs {
		if err := checkRequest(v, i, r); err != nil {
			return nil, err
		}
		op, err := r.build(v)
		if err != nil {
			return nil, err
		}
		p.Operator.Ops = append(p.Operator.Ops, op)
	}
	return xml.Marshal(p)
}

package translator

import "encoding/xml"

// DelRequest deletes clients: operation del, every protocol version (§7.3).
// A blank filter deletes every client visible to the caller.
type DelRequest struct{ Filter Filter }

// Operation returns OpDel.
func (*DelRequest) Operation() Operation { return OpDel }
func (*DelRequest) element() string      { return "del" }

type delXML struct {
	XMLName xml.Name  `xml:"del"`
	Filter  filterXML `xml:"filter"`
}

// build builds client/del or customer/del.
func (r *DelRequest) build(v Version) (any, error) {
	f, err := buildFilter(v, OpDel, r.Filter)
	if err != nil {
		return nil, err
	}
	return &delXML{Filter: f}, nil
}

// reply reads client/del (< 1.6.3.0) or customer/del (1.6.3.0+): one result
// per matched client.
func (*DelRequest) reply(results []resultXML) (Reply, error) { return resultsReply(results) }

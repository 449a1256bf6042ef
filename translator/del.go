package translator

// DelRequest deletes clients: operation del, every protocol version (§7.3).
// A blank filter deletes every client visible to the caller.
type DelRequest struct{ Filter Filter }

var opDel = register(&Op{name: OpDel, element: "del", operators: accountOperators, newReply: newResultsReply})

// Op returns the del operation.
func (*DelRequest) Op() *Op { return opDel }

type delXML struct {
	Filter filterXML `xml:"filter"`
}

// build builds client/del or customer/del.
func (r *DelRequest) build(v Version) (any, error) {
	f, err := buildFilter(v, OpDel, r.Filter)
	if err != nil {
		return nil, err
	}
	return &delXML{Filter: f}, nil
}

package translator

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// get-domain-list: the domains and subscriptions of customers (§7.12).
//
// Its input is in the schema since 1.6.7.0 (Plesk 12.5), but the 1.6.7.0
// output schema has no get-domain-list answer at all: the answer read here
// (result, domains, domain: id, name, ascii-name, type, main, guid,
// external-id, parent-id?; domain-id? is not read, the gateway returns no
// such field) is documented from 1.6.8.0 (Onyx 17.0) on. The operation is sent only where its answer is known, so its
// since is 1.6.8.0: a panel listing 1.6.7.0 at most gets the 501 that names
// the operation and the versions tried, not an answer read from a shape
// nobody documented.

// OpGetDomainList lists customers' domains: customer/get-domain-list.
const OpGetDomainList Operation = "get-domain-list"

// v1680: the first protocol version whose get-domain-list answer is
// documented (§8).
var v1680 = MustParseVersion("1.6.8.0")

var opGetDomainList = register(&Op{name: OpGetDomainList, element: "get-domain-list",
	operators: operators{DialectCustomer: "customer"}, since: v1680, readOnly: true,
	newReply: func() replyReader { return &DomainListReply{Results: []DomainListResult{}} }})

// DomainListRequest lists the domains of the customers Filter selects:
// customer/get-domain-list, protocol 1.6.8.0+ (§7.12). The filter is the
// customer's clientSelectionFilterType (§4.1); each value yields one result.
type DomainListRequest struct{ Filter Filter }

// Op returns the get-domain-list operation.
func (*DomainListRequest) Op() *Op { return opGetDomainList }

type domainListReqXML struct {
	Filter filterXML `xml:"filter"`
}

// build builds customer/get-domain-list.
func (r *DomainListRequest) build(v Version) (any, error) {
	f, err := buildFilter(v, OpGetDomainList, r.Filter)
	if err != nil {
		return nil, err
	}
	return &domainListReqXML{Filter: f}, nil
}

// Domain is one domain of a customer, as get-domain-list answers it.
type Domain struct {
	ID         int
	Name       string // Unicode
	ASCIIName  string // IDNA (punycode)
	Type       string // as Plesk says it; the values are not in the schema
	Main       bool   // the subscription's main domain
	GUID       string
	ExternalID string
	ParentID   *int // absent for a top-level domain
}

// DomainListResult is one filter value's domains.
type DomainListResult struct {
	Result  Result
	Domains []Domain
}

// Outcome is r's Result.
func (r DomainListResult) Outcome() Result { return r.Result }

// DomainListReply answers get-domain-list: one result per filter value.
type DomainListReply struct{ Results []DomainListResult }

func (*DomainListReply) isReply() {}

// domainListResultXML is get-domain-list's result: the customer's domains.
type domainListResultXML struct {
	resultXML
	Domains *domainListXML `xml:"domains"`
}

// domainListXML is domainListOutputType: the <domains> of a result.
type domainListXML struct {
	Domain []domainXML `xml:"domain"`
}

type domainXML struct {
	ID         string  `xml:"id"`
	Name       string  `xml:"name"`
	ASCIIName  string  `xml:"ascii-name"`
	Type       string  `xml:"type"`
	Main       string  `xml:"main"`
	GUID       string  `xml:"guid"`
	ExternalID string  `xml:"external-id"`
	ParentID   *string `xml:"parent-id"`
}

func (out *DomainListReply) eachResult(see func(Result)) {
	for i := range out.Results {
		see(out.Results[i].Result)
	}
}

// read reads one result of customer/get-domain-list.
func (out *DomainListReply) read(d *xml.Decoder, se *xml.StartElement) error {
	var r domainListResultXML
	if err := d.DecodeElement(&r, se); err != nil {
		return err
	}
	res, err := r.result()
	if err != nil {
		return err
	}
	dr := DomainListResult{Result: res, Domains: []Domain{}}
	if r.Domains != nil {
		for _, d := range r.Domains.Domain {
			dom, err := d.domain()
			if err != nil {
				return err
			}
			dr.Domains = append(dr.Domains, dom)
		}
	}
	out.Results = append(out.Results, dr)
	return nil
}

func (d domainXML) domain() (Domain, error) {
	out := Domain{Name: d.Name, ASCIIName: d.ASCIIName, Type: strings.TrimSpace(d.Type), GUID: d.GUID, ExternalID: d.ExternalID}
	var err error
	if out.ID, err = domainID("id", d.ID); err != nil {
		return out, err
	}
	if out.Main, err = parseBool(d.Main); err != nil {
		return out, fmt.Errorf("domain %d: main: %w", out.ID, err)
	}
	if d.ParentID != nil {
		n, err := domainID("parent-id", *d.ParentID)
		if err != nil {
			return out, err
		}
		out.ParentID = &n
	}
	return out, nil
}

// domainID parses an id_type (a positive integer, parsePositive).
func domainID(name, s string) (int, error) {
	n, err := parsePositive(s)
	if err != nil {
		return 0, fmt.Errorf("domain %s %q is not a positive integer", name, s)
	}
	return n, nil
}

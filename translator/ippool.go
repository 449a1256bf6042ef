package translator

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// IPPoolAddRequest adds server IP addresses to a client's pool: legacy
// client/ippool_add_ip, protocol < 1.6.3.0 (§7.5).
type IPPoolAddRequest struct {
	ClientID int
	IPs      []string
}

// IPPoolDelRequest removes IP addresses from a client's pool: legacy
// client/ippool_del_ip, protocol < 1.6.3.0 (§7.6).
type IPPoolDelRequest struct {
	ClientID int
	IPs      []string
}

var (
	opIPPoolAddIP = register(&Op{name: OpIPPoolAddIP, element: "ippool_add_ip", operators: legacyOperators, newReply: newIPPoolReply})
	opIPPoolDelIP = register(&Op{name: OpIPPoolDelIP, element: "ippool_del_ip", operators: legacyOperators, newReply: newIPPoolReply})
)

func newIPPoolReply() replyReader { return &IPPoolReply{Results: []IPPoolResult{}} }

// Op returns the ippool_add_ip operation.
func (*IPPoolAddRequest) Op() *Op { return opIPPoolAddIP }

// Op returns the ippool_del_ip operation.
func (*IPPoolDelRequest) Op() *Op { return opIPPoolDelIP }

// ipPoolOperateXML is ipPoolOperateType with the legacy client_id spelling.
type ipPoolOperateXML struct {
	ClientID  int      `xml:"client_id"`
	IPAddress []string `xml:"ip_address"`
}

func buildIPPoolOp(op Operation, clientID int, ips []string) (any, error) {
	if clientID <= 0 {
		return nil, fmt.Errorf("%w: %s: client id %d is not positive", ErrInvalidInput, op, clientID)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("%w: %s: at least one IP address is required", ErrInvalidInput, op)
	}
	for _, ip := range ips {
		if err := requiredText(op, "IP address", ip); err != nil {
			return nil, err
		}
	}
	return &ipPoolOperateXML{ClientID: clientID, IPAddress: ips}, nil
}

// build builds client/ippool_add_ip (< 1.6.3.0).
func (r *IPPoolAddRequest) build(Version) (any, error) {
	return buildIPPoolOp(OpIPPoolAddIP, r.ClientID, r.IPs)
}

// build builds client/ippool_del_ip (< 1.6.3.0).
func (r *IPPoolDelRequest) build(Version) (any, error) {
	return buildIPPoolOp(OpIPPoolDelIP, r.ClientID, r.IPs)
}

// IPPoolResult is poolOperationResult: a result naming the IP address or the
// client it concerns (§7.5).
type IPPoolResult struct {
	Result   Result
	IP       string
	ClientID int
}

// Outcome is r's Result.
func (r IPPoolResult) Outcome() Result { return r.Result }

// IPPoolReply answers ippool_add_ip / ippool_del_ip.
type IPPoolReply struct{ Results []IPPoolResult }

func (*IPPoolReply) isReply() {}

// ipPoolResultXML is poolOperationResult.
type ipPoolResultXML struct {
	resultXML
	IPAddress  *string `xml:"ip_address"`
	ClientID   string  `xml:"client_id"`
	CustomerID string  `xml:"customer-id"` // XSD-1.6.6 leftover spelling of client_id (§7.5)
}

func (p *IPPoolReply) eachResult(see func(Result)) {
	for i := range p.Results {
		see(p.Results[i].Result)
	}
}

// read reads one result of client/ippool_add_ip or ippool_del_ip
// (< 1.6.3.0).
func (p *IPPoolReply) read(d *xml.Decoder, se *xml.StartElement) error {
	var r ipPoolResultXML
	if err := d.DecodeElement(&r, se); err != nil {
		return err
	}
	res, err := r.result()
	if err != nil {
		return err
	}
	ir := IPPoolResult{Result: res}
	if r.IPAddress != nil {
		ir.IP = strings.TrimSpace(*r.IPAddress)
	}
	cid := r.ClientID
	if strings.TrimSpace(cid) == "" {
		cid = r.CustomerID
	}
	if ir.ClientID, err = optInt("client_id", cid); err != nil {
		return err
	}
	p.Results = append(p.Results, ir)
	return nil
}

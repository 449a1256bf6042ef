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

// Operation returns OpIPPoolAddIP.
func (*IPPoolAddRequest) Operation() Operation { return OpIPPoolAddIP }
func (*IPPoolAddRequest) element() string      { return "ippool_add_ip" }

// Operation returns OpIPPoolDelIP.
func (*IPPoolDelRequest) Operation() Operation { return OpIPPoolDelIP }
func (*IPPoolDelRequest) element() string      { return "ippool_del_ip" }

// ipPoolOperateXML is ipPoolOperateType with the legacy client_id spelling.
type ipPoolOperateXML struct {
	XMLName   xml.Name
	ClientID  int      `xml:"client_id"`
	IPAddress []string `xml:"ip_address"`
}

func buildIPPoolOp(op Operation, name string, clientID int, ips []string) (any, error) {
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
	return &ipPoolOperateXML{XMLName: xml.Name{Local: name}, ClientID: clientID, IPAddress: ips}, nil
}

// build builds client/ippool_add_ip (< 1.6.3.0).
func (r *IPPoolAddRequest) build(Version) (any, error) {
	return buildIPPoolOp(OpIPPoolAddIP, r.element(), r.ClientID, r.IPs)
}

// build builds client/ippool_del_ip (< 1.6.3.0).
func (r *IPPoolDelRequest) build(Version) (any, error) {
	return buildIPPoolOp(OpIPPoolDelIP, r.element(), r.ClientID, r.IPs)
}

// IPPoolResult is poolOperationResult: a result naming the IP address or the
// client it concerns (§7.5).
type IPPoolResult struct {
	Result   Result
	IP       string
	ClientID int
}

// IPPoolReply answers ippool_add_ip / ippool_del_ip.
type IPPoolReply struct{ Results []IPPoolResult }

func (*IPPoolReply) isReply() {}

func ipPoolReply(results []resultXML) (Reply, error) {
	out := &IPPoolReply{Results: make([]IPPoolResult, 0, len(results))}
	for _, r := range results {
		res, err := r.result()
		if err != nil {
			return nil, err
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
			return nil, err
		}
		out.Results = append(out.Results, ir)
	}
	return out, nil
}

// reply reads client/ippool_add_ip results (< 1.6.3.0).
func (*IPPoolAddRequest) reply(results []resultXML) (Reply, error) { return ipPoolReply(results) }

// reply reads client/ippool_del_ip results (< 1.6.3.0).
func (*IPPoolDelRequest) reply(results []resultXML) (Reply, error) { return ipPoolReply(results) }

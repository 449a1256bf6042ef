package translator

import (
	"encoding/xml"
	"strings"
)

// GetRequest reads clients: operation get, every protocol version (§7.2).
// GenInfo and Stat work in both dialects; Permissions, Limits and IPPool are
// datasets of the legacy client operator only (< 1.6.3.0).
type GetRequest struct {
	Filter                                     Filter
	GenInfo, Stat, Permissions, Limits, IPPool bool
}

// get and its legacy datasets: limits, permissions and ippool are
// operations of their own (client/get, < 1.6.3.0), since those have their
// own version window (§8).
var (
	opGet            = register(&Op{name: OpGet, element: "get", operators: accountOperators, readOnly: true, newReply: newGetReply})
	opGetLimits      = register(&Op{name: OpGetLimits, element: "get", operators: legacyOperators, readOnly: true, newReply: newGetReply})
	opGetPermissions = register(&Op{name: OpGetPermissions, element: "get", operators: legacyOperators, readOnly: true, newReply: newGetReply})
	opGetIPPool      = register(&Op{name: OpGetIPPool, element: "get", operators: legacyOperators, readOnly: true, newReply: newGetReply})
)

func newGetReply() replyReader { return &GetReply{Results: []GetResult{}} }

// Op returns the most demanding operation requested: get-limits,
// get-permissions, get-ippool, else get. (All three share one version
// range, so one of them decides version choice for all.)
func (r *GetRequest) Op() *Op {
	switch {
	case r.Limits:
		return opGetLimits
	case r.Permissions:
		return opGetPermissions
	case r.IPPool:
		return opGetIPPool
	}
	return opGet
}

type getXML struct {
	Filter  filterXML  `xml:"filter"`
	Dataset datasetXML `xml:"dataset"`
}

// datasetXML is clientDatasetType in sequence order: gen_info, stat
// (modern and legacy), then permissions, limits, ippool (legacy, §7.2 [INF]).
type datasetXML struct {
	GenInfo     *struct{} `xml:"gen_info"`
	Stat        *struct{} `xml:"stat"`
	Permissions *struct{} `xml:"permissions"`
	Limits      *struct{} `xml:"limits"`
	IPPool      *struct{} `xml:"ippool"`
}

// build builds client/get (legacy) or customer/get (1.6.3.0+).
func (r *GetRequest) build(v Version) (any, error) {
	op := r.Op().Name()
	for _, need := range []struct {
		on bool
		op Operation
	}{{r.Limits, OpGetLimits}, {r.Permissions, OpGetPermissions}, {r.IPPool, OpGetIPPool}} {
		if need.on && !v.Supports(need.op) {
			return nil, &UnsupportedError{Operation: need.op, Version: v}
		}
	}
	f, err := buildFilter(v, op, r.Filter)
	if err != nil {
		return nil, err
	}
	marker := func(on bool) *struct{} {
		if on {
			return &struct{}{}
		}
		return nil
	}
	return &getXML{Filter: f, Dataset: datasetXML{
		GenInfo: marker(r.GenInfo), Stat: marker(r.Stat), Permissions: marker(r.Permissions),
		Limits: marker(r.Limits), IPPool: marker(r.IPPool),
	}}, nil
}

// PoolIP is one address of a client's IP pool (ipPoolType, §6.4).
type PoolIP struct {
	Address string
	Type    string // shared | exclusive
}

// GetResult is one matched client. The data blocks are set only when
// requested and returned (only for ok results).
type GetResult struct {
	Result      Result
	Client      *ClientInfo
	Stat        *Stat
	Permissions []Permission
	Limits      *Limits
	IPPool      []PoolIP
}

// Outcome is r's Result.
func (r GetResult) Outcome() Result { return r.Result }

// GetReply answers get: one result per matched client (none for a blank
// filter that matched nothing, §2).
type GetReply struct{ Results []GetResult }

func (*GetReply) isReply() {}

// getResultXML is get's result: the client's data.
type getResultXML struct {
	resultXML
	Data *dataXML `xml:"data"`
}

// dataXML is clientData (xs:all: any order).
type dataXML struct {
	GenInfo     *genInfoXML     `xml:"gen_info"`
	Stat        *statXML        `xml:"stat"`
	Permissions *permissionsXML `xml:"permissions"`
	Limits      *limitsXML      `xml:"limits"`
	IPPool      *ipPoolXML      `xml:"ippool"`
}

// genInfoXML is clientGetGenInfo (§5.3); password/password_type are not read.
type genInfoXML struct {
	CrDate      string  `xml:"cr_date"`
	Cname       string  `xml:"cname"`
	Pname       string  `xml:"pname"`
	Login       string  `xml:"login"`
	Status      string  `xml:"status"`
	Phone       string  `xml:"phone"`
	Fax         string  `xml:"fax"`
	Email       string  `xml:"email"`
	Address     string  `xml:"address"`
	City        string  `xml:"city"`
	State       string  `xml:"state"`
	Pcode       string  `xml:"pcode"`
	Country     string  `xml:"country"`
	Locale      string  `xml:"locale"`
	GUID        string  `xml:"guid"`
	OwnerID     *string `xml:"owner-id"`
	OwnerLogin  string  `xml:"owner-login"`
	VendorGUID  string  `xml:"vendor-guid"`
	ExternalID  string  `xml:"external-id"`
	Description string  `xml:"description"`
}

// statXML is clientStatType (§6.1); webapps is optional (gone in 1.6.9.1).
type statXML struct {
	ActiveDomains  uint64  `xml:"active_domains"`
	Subdomains     uint64  `xml:"subdomains"`
	DiskSpace      uint64  `xml:"disk_space"`
	Postboxs       uint64  `xml:"postboxs"`
	Redirects      uint64  `xml:"redirects"`
	MailGroups     uint64  `xml:"mail_groups"`
	MailResps      uint64  `xml:"mail_resps"`
	MailLists      uint64  `xml:"mail_lists"`
	WebUsers       uint64  `xml:"web_users"`
	DataBases      uint64  `xml:"data_bases"`
	Webapps        *uint64 `xml:"webapps"`
	Traffic        uint64  `xml:"traffic"`
	TrafficPrevday uint64  `xml:"traffic_prevday"`
}

// ipPoolXML is ipPoolType; both ip-address/ip-type and the underscore
// spellings are read (§6.4: per-version spelling unknown).
type ipPoolXML struct {
	IPs []struct {
		Address  string `xml:"ip-address"`
		Address2 string `xml:"ip_address"`
		Type     string `xml:"ip-type"`
		Type2    string `xml:"ip_type"`
	} `xml:"ip"`
}

func (g *GetReply) eachResult(see func(Result)) {
	for i := range g.Results {
		see(g.Results[i].Result)
	}
}

// read reads one result of client/get (legacy, < 1.6.3.0: filter-id from
// 1.4.2.0, limits in either format) or customer/get (1.6.3.0+; stat/webapps
// absent from 1.6.9.1).
func (g *GetReply) read(d *xml.Decoder, se *xml.StartElement) error {
	gr, err := getResult(d, se)
	if err != nil {
		return err
	}
	g.Results = append(g.Results, gr)
	return nil
}

// getResult decodes and converts one get result.
func getResult(dec *xml.Decoder, se *xml.StartElement) (GetResult, error) {
	var r getResultXML
	if err := dec.DecodeElement(&r, se); err != nil {
		return GetResult{}, err
	}
	res, err := r.result()
	if err != nil {
		return GetResult{}, err
	}
	gr := GetResult{Result: res}
	d := r.Data
	if d == nil {
		return gr, nil
	}
	if d.GenInfo != nil {
		if gr.Client, err = d.GenInfo.info(); err != nil {
			return GetResult{}, err
		}
	}
	if s := d.Stat; s != nil {
		gr.Stat = &Stat{
			ActiveDomains: s.ActiveDomains, Subdomains: s.Subdomains, DiskSpace: s.DiskSpace,
			Postboxes: s.Postboxs, Redirects: s.Redirects, MailGroups: s.MailGroups,
			MailResponders: s.MailResps, MailLists: s.MailLists, WebUsers: s.WebUsers,
			Databases: s.DataBases, Webapps: s.Webapps, Traffic: s.Traffic, TrafficPrevDay: s.TrafficPrevday,
		}
	}
	if d.Permissions != nil {
		gr.Permissions = d.Permissions.perms
	}
	if d.Limits != nil {
		l := d.Limits.limits
		gr.Limits = &l
	}
	if d.IPPool != nil {
		gr.IPPool = make([]PoolIP, 0, len(d.IPPool.IPs))
		for _, ip := range d.IPPool.IPs {
			p := PoolIP{Address: ip.Address, Type: strings.TrimSpace(ip.Type)}
			if p.Address == "" {
				p.Address = ip.Address2
			}
			if p.Type == "" {
				p.Type = strings.TrimSpace(ip.Type2)
			}
			p.Address = strings.TrimSpace(p.Address)
			gr.IPPool = append(gr.IPPool, p)
		}
	}
	return gr, nil
}

// info converts gen_info.
func (g *genInfoXML) info() (*ClientInfo, error) {
	status, err := optInt("status", g.Status)
	if err != nil {
		return nil, err
	}
	ci := &ClientInfo{
		CreatedDate: strings.TrimSpace(g.CrDate), Company: g.Cname, Name: g.Pname, Login: g.Login,
		Status: Status(status), Phone: g.Phone, Fax: g.Fax, Email: g.Email, Address: g.Address,
		City: g.City, State: g.State, PostalCode: g.Pcode, Country: g.Country, Locale: g.Locale,
		GUID: g.GUID, OwnerLogin: g.OwnerLogin, VendorGUID: g.VendorGUID,
		ExternalID: g.ExternalID, Description: g.Description,
	}
	if g.OwnerID != nil && strings.TrimSpace(*g.OwnerID) != "" {
		n, err := optInt("owner-id", *g.OwnerID)
		if err != nil {
			return nil, err
		}
		ci.OwnerID = &n
	}
	return ci, nil
}

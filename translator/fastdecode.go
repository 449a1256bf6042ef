package translator

import (
	"strconv"
	"strings"
)

// The fast decoding path. encoding/xml costs about 200 allocations for a
// one-client answer; this reads the same answer with a handful. It fills the
// very structures encoding/xml fills (opXML, resultXML, dataXML, …) with the
// same semantics (direct character data only, last occurrence wins, pointers
// allocated once and reused, unknown elements skipped) and hands them to the
// same reply methods, so the typed replies come from one place.
//
// It never reports an error: anything it does not handle, or handles but
// finds wrong, returns ok = false and DecodeResponse runs encoding/xml, which
// is the reference for every answer and every error. FuzzDecodeFastMatchesOracle
// checks that whatever the fast path accepts, encoding/xml decodes equally.

// fastDecoder holds the scanner and slabs the structures are carved from,
// so a list of n clients costs a few allocations, not a few per client.
type fastDecoder struct {
	sc      scanner
	results []resultXML // reused by every operation element (reply copies out)
	datas   []dataXML
	infos   []genInfoXML
	strs    []string // targets of *string fields
	nres    int      // upper bound on the results in the body
	depth   int
}

// xmlDecls are the XML declarations the fast path accepts (at byte 0); any
// other form goes to encoding/xml, which checks version and encoding.
var xmlDecls = [...]string{
	`<?xml version="1.0" encoding="UTF-8"?>`,
	`<?xml version="1.0" encoding="utf-8"?>`,
	`<?xml version="1.0"?>`,
	`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`,
	`<?xml version="1.0" encoding="UTF-8" standalone="no"?>`,
}

// newFastDecoder starts a decoder over one copy of the body: every text
// without references is a substring of it, and callers may reuse body.
func newFastDecoder(body []byte) *fastDecoder {
	return fastDecoderOver(string(body))
}

// fastDecoderOver starts a decoder over s, after the XML declaration if s
// begins with one of xmlDecls.
func fastDecoderOver(s string) *fastDecoder {
	i := 0
	for _, d := range xmlDecls {
		if strings.HasPrefix(s, d) {
			i = len(d)
			break
		}
	}
	return &fastDecoder{sc: scanner{s: s, pos: i}, nres: 1}
}

// fastDecodeResponse is DecodeResponse's fast path; ok = false means "use
// encoding/xml". reqs are non-nil (DecodeResponse checked).
func fastDecodeResponse(v Version, body []byte, reqs []Request) (replies []Reply, ok bool) {
	return newFastDecoder(body).decode(v, reqs)
}

// decode reads the packet's operator element into one reply per request.
func (f *fastDecoder) decode(v Version, reqs []Request) (replies []Reply, ok bool) {
	ok = f.operations(v, reqs, func(i int, name string) bool {
		results, ok := f.operation(name)
		if !ok {
			return false
		}
		rep, err := reqs[i].reply(results)
		if err != nil {
			return false
		}
		if replies == nil { // not before: a <system> error needs none
			replies = make([]Reply, 0, len(reqs))
		}
		replies = append(replies, rep)
		return true
	})
	if !ok {
		return nil, false
	}
	return replies, true
}

// operations reads the packet's operator element (dialect of v): one
// operation element per request, in order, each read by op (called with the
// request's index just after the element's start tag). False unless there
// is exactly one element per request.
func (f *fastDecoder) operations(v Version, reqs []Request, op func(i int, name string) bool) bool {
	operator := v.Dialect().Operator()
	n := 0
	ok := f.packet(operator, func() bool {
		return f.children(operator, func(c string) bool {
			if n >= len(reqs) || c != reqs[n].element() {
				return false
			}
			n++
			return op(n-1, c)
		})
	})
	return ok && n == len(reqs)
}

// eachResult reads the element name (its start tag just read), calling read
// at each <result> child's start tag; read consumes the result. Other
// children are skipped. This is the one loop over <result> elements.
func (f *fastDecoder) eachResult(name string, read func() bool) bool {
	return f.children(name, func(c string) bool {
		if c != "result" {
			return f.skip(c)
		}
		return read()
	})
}

// operation reads opXML: its <result> children.
func (f *fastDecoder) operation(name string) ([]resultXML, bool) {
	if f.results == nil {
		// "<result" also counts <results…> elements: an upper bound.
		f.nres = max(strings.Count(f.sc.s[f.sc.pos:], "<result"), 1)
		f.results = make([]resultXML, 0, f.nres)
	}
	results := f.results[:0]
	ok := f.eachResult(name, func() bool {
		results = append(results, resultXML{})
		return f.result(&results[len(results)-1])
	})
	f.results = results
	return results, ok
}

// fastGetProtos is DecodeGetProtos's fast path: the listed protos, as
// decodeGetProtosXML collects them, when every result is ok.
func fastGetProtos(body []byte) (protos []string, ok bool) {
	f := newFastDecoder(body)
	seen := false
	ok = f.packet("server", func() bool {
		return f.children("server", func(c string) bool {
			if c != "get_protos" {
				return f.skip(c)
			}
			return f.eachResult(c, func() bool {
				var r resultXML
				if !f.resultWith(&r, &protos) {
					return false
				}
				res, err := r.result()
				seen = true
				return err == nil && res.OK() // errors are reported by encoding/xml
			})
		})
	})
	return protos, ok && seen
}

// packet reads the <packet> envelope: <output> is skipped, the operator
// element read by op, <system> (an error, or a bad one) and anything else
// left to encoding/xml.
func (f *fastDecoder) packet(operator string, op func() bool) bool {
	if !f.prolog() {
		return false
	}
	for {
		switch f.sc.next() {
		case tokText:
		case tokEnd:
			return f.sc.name == "packet" && f.epilog()
		case tokStart:
			switch f.sc.name {
			case "output":
				if !f.skip("output") {
					return false
				}
			case operator:
				if !op() {
					return false
				}
			default:
				return false
			}
		default:
			return false
		}
	}
}

// prolog reads up to the <packet> start tag: whitespace and comments only.
func (f *fastDecoder) prolog() bool {
	for {
		switch f.sc.next() {
		case tokText:
			if !blank(f.sc.rawText()) {
				return false
			}
		case tokStart:
			return f.sc.name == "packet"
		default:
			return false
		}
	}
}

// epilog reads what follows </packet>: whitespace and comments only.
func (f *fastDecoder) epilog() bool {
	for {
		switch f.sc.next() {
		case tokText:
			if !blank(f.sc.rawText()) {
				return false
			}
		case tokEOF:
			return true
		default:
			return false
		}
	}
}

// blank reports whether s is XML white space only (a subset of what
// walkPacket's bytes.TrimSpace allows around the packet).
func blank(s string) bool {
	return skipSpace(s, 0) == len(s)
}

// children calls field for each child element of the element name (whose
// start tag was just read), up to its end tag. field reads the child with
// the start tag just read and returns false to fall back. Text between
// children is ignored, as encoding/xml ignores it in a struct.
func (f *fastDecoder) children(name string, field func(child string) bool) bool {
	f.depth++
	if f.depth > maxFastDepth {
		return false
	}
	for {
		switch f.sc.next() {
		case tokText:
		case tokEnd:
			f.depth--
			return f.sc.name == name
		case tokStart:
			if !field(f.sc.name) {
				return false
			}
		default:
			return false
		}
	}
}

// skip consumes an element nobody reads, still checking it is well-formed.
func (f *fastDecoder) skip(name string) bool {
	return f.children(name, f.skip)
}

// text reads a string field: the element's direct character data, child
// elements skipped (encoding/xml's rule). Text without references is a
// substring of the body; text with '\r' falls back (encoding/xml rewrites
// line ends).
func (f *fastDecoder) text(name string) (string, bool) {
	var out string
	var b strings.Builder // used only when out must be built
	built := false
	pieces := 0
	f.depth++
	if f.depth > maxFastDepth {
		return "", false
	}
	for {
		switch f.sc.next() {
		case tokText:
			if f.sc.textCR {
				return "", false
			}
			raw := f.sc.rawText()
			pieces++
			if pieces == 1 && !f.sc.textAmp {
				out = raw
				continue
			}
			if !built {
				built = true
				b.Grow(len(out) + len(raw))
				b.WriteString(out)
			}
			unescape(raw, &b)
		case tokEnd:
			f.depth--
			if f.sc.name != name {
				return "", false
			}
			if built {
				out = b.String()
			}
			return out, true
		case tokStart:
			if !f.skip(f.sc.name) {
				return "", false
			}
		default:
			return "", false
		}
	}
}

// setText reads a string field into *dst (last occurrence wins).
func (f *fastDecoder) setText(dst *string, name string) bool {
	s, ok := f.text(name)
	*dst = s
	return ok
}

// setTextPtr reads a *string field: allocated by its first occurrence,
// overwritten by later ones, as encoding/xml does.
func (f *fastDecoder) setTextPtr(dst **string, name string) bool {
	if *dst == nil {
		*dst = f.newString()
	}
	return f.setText(*dst, name)
}

// appendText reads one element of a []string field.
func (f *fastDecoder) appendText(dst *[]string, name string) bool {
	s, ok := f.text(name)
	*dst = append(*dst, s)
	return ok
}

// setUint reads a uint64 field with encoding/xml's rule: empty is 0, else
// ParseUint of the trimmed text.
func (f *fastDecoder) setUint(dst *uint64, name string) bool {
	s, ok := f.text(name)
	if !ok {
		return false
	}
	if s == "" {
		*dst = 0
		return true
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	*dst = n
	return err == nil
}

func (f *fastDecoder) setUintPtr(dst **uint64, name string) bool {
	if *dst == nil {
		*dst = new(uint64)
	}
	return f.setUint(*dst, name)
}

// newString, newData and newInfo carve pointer targets from slabs sized by
// the result count.
func (f *fastDecoder) newString() *string {
	if len(f.strs) == cap(f.strs) {
		f.strs = make([]string, 0, min(2*f.nres, 4096))
	}
	f.strs = f.strs[:len(f.strs)+1]
	return &f.strs[len(f.strs)-1]
}

func (f *fastDecoder) newData() *dataXML {
	if len(f.datas) == cap(f.datas) {
		f.datas = make([]dataXML, 0, min(f.nres, 4096))
	}
	f.datas = f.datas[:len(f.datas)+1]
	return &f.datas[len(f.datas)-1]
}

func (f *fastDecoder) newInfo() *genInfoXML {
	if len(f.infos) == cap(f.infos) {
		f.infos = make([]genInfoXML, 0, min(f.nres, 4096))
	}
	f.infos = f.infos[:len(f.infos)+1]
	return &f.infos[len(f.infos)-1]
}

// alloc returns *p, allocating it first if nil: encoding/xml's handling of
// pointer fields (a repeated element fills the same value again).
func alloc[T any](p **T) *T {
	if *p == nil {
		*p = new(T)
	}
	return *p
}

// appendNew appends a zero element to *s and returns it (slice fields: one
// element per occurrence).
func appendNew[T any](s *[]T) *T {
	var zero T
	*s = append(*s, zero)
	return &(*s)[len(*s)-1]
}

// result reads resultXML.
func (f *fastDecoder) result(r *resultXML) bool { return f.resultWith(r, nil) }

// resultWith reads resultXML and, if protos is not nil, the get_protos
// extension `xml:"protos>proto"`: the <proto> children of every <protos>.
func (f *fastDecoder) resultWith(r *resultXML, protos *[]string) bool {
	return f.children("result", func(c string) bool {
		switch c {
		case "protos":
			if protos != nil {
				return f.children(c, func(c string) bool {
					if c == "proto" {
						return f.appendText(protos, c)
					}
					return f.skip(c)
				})
			}
		case "status":
			return f.setText(&r.Status, c)
		case "errcode":
			return f.setText(&r.ErrCode, c)
		case "errtext":
			return f.setText(&r.ErrText, c)
		case "filter-id":
			return f.setTextPtr(&r.FilterID, c)
		case "id":
			return f.setText(&r.ID, c)
		case "guid":
			return f.setText(&r.GUID, c)
		case "ip_address":
			return f.setTextPtr(&r.IPAddress, c)
		case "client_id":
			return f.setText(&r.ClientID, c)
		case "customer-id":
			return f.setText(&r.CustomerID, c)
		case "data":
			if r.Data == nil {
				r.Data = f.newData()
			}
			return f.data(r.Data)
		case "button":
			return f.button(appendNew(&r.Buttons))
		case "descriptor":
			return f.descriptor(alloc(&r.Descriptor))
		}
		return f.skip(c)
	})
}

// data reads dataXML.
func (f *fastDecoder) data(d *dataXML) bool {
	return f.children("data", func(c string) bool {
		switch c {
		case "gen_info":
			if d.GenInfo == nil {
				d.GenInfo = f.newInfo()
			}
			return f.genInfo(d.GenInfo)
		case "stat":
			return f.stat(alloc(&d.Stat))
		case "permissions":
			return f.permissions(alloc(&d.Permissions))
		case "limits":
			return f.limits(alloc(&d.Limits))
		case "ippool":
			return f.ipPool(alloc(&d.IPPool))
		}
		return f.skip(c)
	})
}

// genInfo reads genInfoXML.
func (f *fastDecoder) genInfo(g *genInfoXML) bool {
	return f.children("gen_info", func(c string) bool {
		var dst *string
		switch c {
		case "cr_date":
			dst = &g.CrDate
		case "cname":
			dst = &g.Cname
		case "pname":
			dst = &g.Pname
		case "login":
			dst = &g.Login
		case "status":
			dst = &g.Status
		case "phone":
			dst = &g.Phone
		case "fax":
			dst = &g.Fax
		case "email":
			dst = &g.Email
		case "address":
			dst = &g.Address
		case "city":
			dst = &g.City
		case "state":
			dst = &g.State
		case "pcode":
			dst = &g.Pcode
		case "country":
			dst = &g.Country
		case "locale":
			dst = &g.Locale
		case "guid":
			dst = &g.GUID
		case "owner-id":
			return f.setTextPtr(&g.OwnerID, c)
		case "owner-login":
			dst = &g.OwnerLogin
		case "vendor-guid":
			dst = &g.VendorGUID
		case "external-id":
			dst = &g.ExternalID
		case "description":
			dst = &g.Description
		default:
			return f.skip(c)
		}
		return f.setText(dst, c)
	})
}

// stat reads statXML.
func (f *fastDecoder) stat(s *statXML) bool {
	return f.children("stat", func(c string) bool {
		var dst *uint64
		switch c {
		case "active_domains":
			dst = &s.ActiveDomains
		case "subdomains":
			dst = &s.Subdomains
		case "disk_space":
			dst = &s.DiskSpace
		case "postboxs":
			dst = &s.Postboxs
		case "redirects":
			dst = &s.Redirects
		case "mail_groups":
			dst = &s.MailGroups
		case "mail_resps":
			dst = &s.MailResps
		case "mail_lists":
			dst = &s.MailLists
		case "web_users":
			dst = &s.WebUsers
		case "data_bases":
			dst = &s.DataBases
		case "webapps":
			return f.setUintPtr(&s.Webapps, c)
		case "traffic":
			dst = &s.Traffic
		case "traffic_prevday":
			dst = &s.TrafficPrevday
		default:
			return f.skip(c)
		}
		return f.setUint(dst, c)
	})
}

// nameValue reads a <limit> or <permission> pair (a fresh nameValueXML).
func (f *fastDecoder) nameValue(name string) (nv nameValueXML, ok bool) {
	ok = f.children(name, func(c string) bool {
		switch c {
		case "name":
			return f.setText(&nv.Name, c)
		case "value":
			return f.setText(&nv.Value, c)
		}
		return f.skip(c)
	})
	return nv, ok
}

// limits mirrors limitsXML.UnmarshalXML: both formats, values reset per
// occurrence, overuse kept unless a resource-policy comes again.
func (f *fastDecoder) limits(l *limitsXML) bool {
	l.limits.Values = []Limit{}
	return f.children("limits", func(c string) bool {
		switch c {
		case "resource-policy":
			var overuse string
			ok := f.children(c, func(c string) bool {
				if c == "overuse" {
					return f.setText(&overuse, c)
				}
				return f.skip(c)
			})
			l.limits.Overuse = strings.TrimSpace(overuse)
			return ok
		case "limit":
			nv, ok := f.nameValue(c)
			return ok && l.add(nv.Name, nv.Value) == nil
		}
		s, ok := f.text(c)
		return ok && l.add(c, s) == nil
	})
}

// permissions mirrors permissionsXML.UnmarshalXML.
func (f *fastDecoder) permissions(p *permissionsXML) bool {
	p.perms = []Permission{}
	return f.children("permissions", func(c string) bool {
		var name, value string
		ok := false
		if c == "permission" {
			var nv nameValueXML
			nv, ok = f.nameValue(c)
			name, value = nv.Name, nv.Value
		} else {
			name = c
			value, ok = f.text(c)
		}
		if !ok {
			return false
		}
		b, err := parseBool(value)
		if err != nil {
			return false
		}
		p.perms = append(p.perms, Permission{Name: name, Value: b})
		return true
	})
}

// ipPool reads ipPoolXML.
func (f *fastDecoder) ipPool(p *ipPoolXML) bool {
	return f.children("ippool", func(c string) bool {
		if c != "ip" {
			return f.skip(c)
		}
		ip := appendNew(&p.IPs)
		return f.children(c, func(c string) bool {
			switch c {
			case "ip-address":
				return f.setText(&ip.Address, c)
			case "ip_address":
				return f.setText(&ip.Address2, c)
			case "ip-type":
				return f.setText(&ip.Type, c)
			case "ip_type":
				return f.setText(&ip.Type2, c)
			}
			return f.skip(c)
		})
	})
}

// button reads buttonXML.
func (f *fastDecoder) button(b *buttonXML) bool {
	return f.children("button", func(c string) bool {
		switch c {
		case "code":
			return f.setText(&b.Code, c)
		case "type":
			return f.setText(&b.Type, c)
		case "name":
			return f.setText(&b.Name, c)
		case "name_id":
			return f.setText(&b.NameID, c)
		case "group_name":
			return f.setText(&b.GroupName, c)
		case "group_name_id":
			return f.setText(&b.GroupNameID, c)
		case "href":
			return f.setText(&b.Href, c)
		case "js_onclick":
			return f.setTextPtr(&b.JSOnClick, c)
		case "enabled":
			return f.setText(&b.Enabled, c)
		case "new_window":
			return f.setTextPtr(&b.NewWindow, c)
		case "tabindex":
			return f.setTextPtr(&b.TabIndex, c)
		case "conhelp_id":
			return f.setTextPtr(&b.ConhelpID, c)
		case "conhelp":
			return f.setTextPtr(&b.Conhelp, c)
		case "icon_url":
			return f.setTextPtr(&b.IconURL, c)
		}
		return f.skip(c)
	})
}

// descriptor reads descriptorXML.
func (f *fastDecoder) descriptor(d *descriptorXML) bool {
	return f.children("descriptor", func(c string) bool {
		if c != "property" {
			return f.skip(c)
		}
		p := appendNew(&d.Properties)
		return f.children(c, func(c string) bool {
			switch c {
			case "name":
				return f.setText(&p.Name, c)
			case "type":
				return f.setText(&p.Type, c)
			case "enum":
				e := appendNew(&p.Enum)
				return f.children(c, func(c string) bool {
					switch c {
					case "value":
						return f.setText(&e.Value, c)
					case "label":
						return f.setText(&e.Label, c)
					case "hint":
						return f.setText(&e.Hint, c)
					}
					return f.skip(c)
				})
			case "default-value":
				return f.setTextPtr(&p.DefaultValue, c)
			case "writable-by":
				return f.appendText(&p.WritableBy, c)
			case "label":
				return f.setText(&p.Label, c)
			case "hint":
				return f.setText(&p.Hint, c)
			case "extension":
				x := alloc(&p.Extension)
				return f.children(c, func(c string) bool {
					switch c {
					case "shared":
						return f.setTextPtr(&x.Shared, c)
					case "level":
						return f.appendText(&x.Levels, c)
					}
					return f.skip(c)
				})
			}
			return f.skip(c)
		})
	})
}

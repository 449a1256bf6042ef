package translator

// The append encoder: writes a request packet into one []byte, byte for byte
// what xml.Marshal writes for the same wire structs (marshalPacket), without
// reflection and without xml.Marshal's 4 KiB bufio.Writer per call. Requests
// are still checked and turned into wire structs by their build method, so
// validation and errors are the ones the encoding/xml path gives.
//
// encoding/xml facts mirrored here: elements are never self-closed (an empty
// element is <a></a>); nil pointers are left out; integers are decimal;
// element names are written as given (build only lets XML names through);
// character data and attribute values are escaped by EscapeString (see
// appendEscaped).

import (
	"strconv"
	"sync"
	"unicode/utf8"
)

// encodeBufs recycles the scratch buffer EncodeRequest appends into, so a
// packet costs one allocation: its exact-size copy.
var encodeBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// maxPooledEncodeBuf keeps a rare huge packet (thousands of filter values)
// from pinning its buffer in the pool.
const maxPooledEncodeBuf = 64 << 10

func getEncodeBuf() *[]byte { return encodeBufs.Get().(*[]byte) }

func putEncodeBuf(bp *[]byte) {
	if cap(*bp) <= maxPooledEncodeBuf {
		encodeBufs.Put(bp)
	}
}

// appendPacket appends the packet for reqs to dst. handled is false, with no
// error, when a request's wire value has no appender: the caller must then
// use marshalPacket (which checks and builds again, so it gives the same
// errors). Errors are those of marshalPacket, in the same order.
func appendPacket(dst []byte, v Version, reqs []Request) (b []byte, handled bool, err error) {
	if err := checkPacket(v, reqs); err != nil {
		return dst, false, err
	}
	operator := v.Dialect().Operator()
	if operator == "" {
		return dst, false, nil // xml.Marshal decides what a nameless element is
	}
	b = append(dst, `<packet version="`...)
	b = appendVersion(b, v)
	b = append(b, `">`...)
	b = appendStart(b, operator)
	for i, r := range reqs {
		if err := checkRequest(v, i, r); err != nil {
			return b, false, err
		}
		op, err := r.build(v)
		if err != nil {
			return b, false, err
		}
		var ok bool
		if b, ok = appendOp(b, op); !ok {
			return b, false, nil
		}
	}
	b = appendEnd(b, operator)
	return append(b, "</packet>"...), true, nil
}

// appendVersion writes v as Version.String does, without its allocations.
// Digits and dots need no escaping.
func appendVersion(b []byte, v Version) []byte {
	for i := 0; i < v.n; i++ {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(v.parts[i]), 10)
	}
	return b
}

// appendOp appends one operation element from the wire value a build method
// returned. ok is false for a value it does not know (or one whose element
// name is missing, which only xml.Marshal's naming rules can settle).
func appendOp(b []byte, op any) (_ []byte, ok bool) {
	switch x := op.(type) {
	case *getXML:
		b = append(b, "<get>"...)
		if b, ok = appendFilter(b, x.Filter); !ok {
			return b, false
		}
		b = append(b, "<dataset>"...)
		b = appendMarker(b, "gen_info", x.Dataset.GenInfo)
		b = appendMarker(b, "stat", x.Dataset.Stat)
		b = appendMarker(b, "permissions", x.Dataset.Permissions)
		b = appendMarker(b, "limits", x.Dataset.Limits)
		b = appendMarker(b, "ippool", x.Dataset.IPPool)
		b = append(b, "</dataset></get>"...)
	case *addXML:
		b = append(b, "<add>"...)
		b = appendAddGenInfo(b, &x.GenInfo)
		b = appendOptInt(b, "template-id", x.TemplateID)
		b = appendOptText(b, "template-name", x.TemplateName)
		b = append(b, "</add>"...)
	case *setXML:
		b = append(b, "<set>"...)
		if b, ok = appendFilter(b, x.Filter); !ok {
			return b, false
		}
		b = append(b, "<values>"...)
		if g := x.Values.GenInfo; g != nil {
			b = appendSetGenInfo(b, g)
		}
		if l := x.Values.Limits; l != nil {
			if b, ok = appendLimits(b, l); !ok {
				return b, false
			}
		}
		if p := x.Values.Permissions; p != nil {
			if b, ok = appendPermissions(b, p); !ok {
				return b, false
			}
		}
		b = append(b, "</values></set>"...)
	case *delXML:
		b = append(b, "<del>"...)
		if b, ok = appendFilter(b, x.Filter); !ok {
			return b, false
		}
		b = append(b, "</del>"...)
	case *ipPoolOperateXML:
		if x.XMLName.Local == "" {
			return b, false
		}
		b = appendStart(b, x.XMLName.Local)
		b = append(b, "<client_id>"...)
		b = strconv.AppendInt(b, int64(x.ClientID), 10)
		b = append(b, "</client_id>"...)
		for _, ip := range x.IPAddress {
			b = appendText(b, "ip_address", ip)
		}
		b = appendEnd(b, x.XMLName.Local)
	case *convertXML:
		b = append(b, "<convert-to-reseller>"...)
		if b, ok = appendFilter(b, x.Filter); !ok {
			return b, false
		}
		b = appendOptText(b, "reseller-plan-name", x.ResellerPlanName)
		b = append(b, "</convert-to-reseller>"...)
	case *changeOwnerXML:
		b = append(b, "<change-owner>"...)
		if b, ok = appendFilter(b, x.Filter); !ok {
			return b, false
		}
		b = appendText(b, "new-owner-login", x.NewOwnerLogin)
		for _, ip := range x.IPv4 {
			b = appendText(b, "ipV4-address", ip)
		}
		for _, ip := range x.IPv6 {
			b = appendText(b, "ipV6-address", ip)
		}
		b = appendOptText(b, "plan-name", x.PlanName)
		b = append(b, "</change-owner>"...)
	case *buttonsListXML:
		b = append(b, "<cform_buttons_list>"...)
		if b, ok = appendFilter(b, x.Filter); !ok {
			return b, false
		}
		b = append(b, "</cform_buttons_list>"...)
	case *descriptorReqXML:
		if x.XMLName.Local == "" {
			return b, false
		}
		b = appendStart(b, x.XMLName.Local)
		if b, ok = appendFilter(b, x.Filter); !ok {
			return b, false
		}
		b = appendEnd(b, x.XMLName.Local)
	default:
		return b, false
	}
	return b, true
}

// appendAddGenInfo writes clientAddGenInfo in addGenInfoXML's field order.
func appendAddGenInfo(b []byte, g *addGenInfoXML) []byte {
	b = append(b, "<gen_info>"...)
	b = appendOptText(b, "cname", g.Cname)
	b = appendText(b, "pname", g.Pname)
	b = appendText(b, "login", g.Login)
	b = appendText(b, "passwd", g.Passwd)
	b = appendOptStatus(b, g.Status)
	b = appendOptText(b, "phone", g.Phone)
	b = appendOptText(b, "fax", g.Fax)
	b = appendOptText(b, "email", g.Email)
	b = appendOptText(b, "address", g.Address)
	b = appendOptText(b, "city", g.City)
	b = appendOptText(b, "state", g.State)
	b = appendOptText(b, "pcode", g.Pcode)
	b = appendOptText(b, "country", g.Country)
	b = appendOptText(b, "locale", g.Locale)
	b = appendOptInt(b, "owner-id", g.OwnerID)
	b = appendOptText(b, "owner-login", g.OwnerLogin)
	b = appendOptText(b, "owner-external-id", g.OwnerExternalID)
	b = appendOptText(b, "external-id", g.ExternalID)
	b = appendOptText(b, "description", g.Description)
	return append(b, "</gen_info>"...)
}

// appendSetGenInfo writes clientSetGenInfo in setGenInfoXML's field order.
func appendSetGenInfo(b []byte, g *setGenInfoXML) []byte {
	b = append(b, "<gen_info>"...)
	b = appendOptText(b, "cname", g.Cname)
	b = appendOptText(b, "pname", g.Pname)
	b = appendOptText(b, "login", g.Login)
	b = appendOptText(b, "passwd", g.Passwd)
	b = appendOptStatus(b, g.Status)
	b = appendOptText(b, "phone", g.Phone)
	b = appendOptText(b, "fax", g.Fax)
	b = appendOptText(b, "email", g.Email)
	b = appendOptText(b, "address", g.Address)
	b = appendOptText(b, "city", g.City)
	b = appendOptText(b, "state", g.State)
	b = appendOptText(b, "pcode", g.Pcode)
	b = appendOptText(b, "country", g.Country)
	b = appendOptText(b, "locale", g.Locale)
	b = appendMarker(b, "guid", g.GUID)
	b = appendOptText(b, "external-id", g.ExternalID)
	b = appendOptText(b, "description", g.Description)
	return append(b, "</gen_info>"...)
}

// appendFilter writes filterXML as its MarshalXML does: <filter></filter>
// when blank, else one <kind> element per value. ok is false for values
// without a kind, which encoding/xml refuses (buildFilter never makes one).
func appendFilter(b []byte, f filterXML) (_ []byte, ok bool) {
	if f.kind == "" && len(f.values) > 0 {
		return b, false
	}
	b = append(b, "<filter>"...)
	for _, v := range f.values {
		b = appendText(b, string(f.kind), v)
	}
	return append(b, "</filter>"...), true
}

// appendLimits writes limitsXML as its MarshalXML does, in either format.
// ok is false for a named limit without a name, which encoding/xml refuses.
func appendLimits(b []byte, l *limitsXML) (_ []byte, ok bool) {
	b = append(b, "<limits>"...)
	if l.limits.Overuse != "" {
		b = append(b, "<resource-policy>"...)
		b = appendText(b, "overuse", l.limits.Overuse)
		b = append(b, "</resource-policy>"...)
	}
	for _, lim := range l.limits.Values {
		if l.named {
			if lim.Name == "" {
				return b, false
			}
			b = appendStart(b, lim.Name)
			b = strconv.AppendInt(b, lim.Value, 10)
			b = appendEnd(b, lim.Name)
		} else {
			b = append(b, "<limit>"...)
			b = appendText(b, "name", lim.Name)
			b = append(b, "<value>"...)
			b = strconv.AppendInt(b, lim.Value, 10)
			b = append(b, "</value></limit>"...)
		}
	}
	return append(b, "</limits>"...), true
}

// appendPermissions writes permissionsXML as its MarshalXML does.
func appendPermissions(b []byte, p *permissionsXML) (_ []byte, ok bool) {
	b = append(b, "<permissions>"...)
	for _, perm := range p.perms {
		if p.named {
			if perm.Name == "" {
				return b, false
			}
			b = appendStart(b, perm.Name)
			b = strconv.AppendBool(b, perm.Value)
			b = appendEnd(b, perm.Name)
		} else {
			b = append(b, "<permission>"...)
			b = appendText(b, "name", perm.Name)
			b = append(b, "<value>"...)
			b = strconv.AppendBool(b, perm.Value)
			b = append(b, "</value></permission>"...)
		}
	}
	return append(b, "</permissions>"...), true
}

func appendStart(b []byte, name string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	return append(b, '>')
}

func appendEnd(b []byte, name string) []byte {
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// appendText writes <name>s</name>, s escaped.
func appendText(b []byte, name, s string) []byte {
	b = appendStart(b, name)
	b = appendEscaped(b, s)
	return appendEnd(b, name)
}

func appendOptText(b []byte, name string, s *string) []byte {
	if s == nil {
		return b
	}
	return appendText(b, name, *s)
}

func appendOptInt(b []byte, name string, n *int) []byte {
	if n == nil {
		return b
	}
	b = appendStart(b, name)
	b = strconv.AppendInt(b, int64(*n), 10)
	return appendEnd(b, name)
}

func appendOptStatus(b []byte, s *Status) []byte {
	if s == nil {
		return b
	}
	b = append(b, "<status>"...)
	b = strconv.AppendInt(b, int64(*s), 10)
	return append(b, "</status>"...)
}

// appendMarker writes the empty element <name></name> when on is non-nil.
func appendMarker(b []byte, name string, on *struct{}) []byte {
	if on == nil {
		return b
	}
	b = appendStart(b, name)
	return appendEnd(b, name)
}

// appendEscaped appends s escaped exactly as encoding/xml's EscapeString
// (used by xml.Marshal for character data and attribute values): " and '
// as &#34; and &#39;, & < > as entities, \t \n \r as &#x9; &#xA; &#xD;, and
// each byte of invalid UTF-8 or rune outside XML's character range as
// U+FFFD. (build rejects the last two with checkText; they are mirrored so
// the two encoders agree on every string.)
func appendEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		width := 1
		var esc string
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				esc = "&#34;"
			case '\'':
				esc = "&#39;"
			case '&':
				esc = "&amp;"
			case '<':
				esc = "&lt;"
			case '>':
				esc = "&gt;"
			case '\t':
				esc = "&#x9;"
			case '\n':
				esc = "&#xA;"
			case '\r':
				esc = "&#xD;"
			default:
				if c >= 0x20 {
					i++
					continue
				}
				esc = "\uFFFD"
			}
		} else {
			r, w := utf8.DecodeRuneInString(s[i:])
			width = w
			if !(r == utf8.RuneError && w == 1) && isXMLChar(r) {
				i += w
				continue
			}
			esc = "\uFFFD"
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		i += width
		last = i
	}
	return append(b, s[last:]...)
}

package plesksim

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// This file is a tiny XSD-like validator. The simulator validates every
// request packet the way Plesk does (libxml2 against its schema) and reports
// the first violation as system error 1014 in libxml2's wording. The content
// models are written here by hand: for the modern customer operator from the
// structure of Plesk's schemas (PROTOCOL.md §4.1, §5, §7), for the legacy
// client operator from the reconstructed shapes of PROTOCOL.md §4.2, §5–§7.

type stype int

const (
	stComplex stype = iota // element-only content
	stString               // common.xsd "string" (collapse)
	stInt                  // common.xsd "int" (xs:integer)
	stID                   // common.xsd "id_type" (xs:positiveInteger)
	stStatus               // plesk_common.xsd "objectStatus" (restriction of int)
	stLong                 // common.xsd "long"
	stBool                 // common.xsd "boolean"
	stEmpty                // NoneType: no content
	stAny                  // xs:anyType: anything
)

const unbounded = -1

type decl struct {
	name    string
	typ     stype
	min     int
	max     int // unbounded = no limit
	content []particle
	enum    []string // for stString: allowed values
	attrs   []string // allowed attributes
}

// particle is one item of a sequence: an element, a choice of elements, or an
// xs:all group of elements (each at most once, any order).
type particle struct {
	el       *decl
	choice   []*decl
	all      []*decl
	min, max int // occurrences of the choice
	// names, when set, is what a choice reports as expected instead of
	// its branches' names (the operators of the whole Plesk schema).
	names []string
}

func elem(name string, t stype, min, max int) *decl {
	return &decl{name: name, typ: t, min: min, max: max}
}

func req(name string, t stype) particle { return particle{el: elem(name, t, 1, 1)} }
func opt(name string, t stype) particle { return particle{el: elem(name, t, 0, 1)} }
func many(name string, t stype, min int) particle {
	return particle{el: elem(name, t, min, unbounded)}
}

// cplx declares a complex element with a sequence content model.
func cplx(name string, min, max int, content ...particle) particle {
	return particle{el: &decl{name: name, typ: stComplex, min: min, max: max, content: content}}
}

func choice(min, max int, branches ...*decl) particle {
	return particle{choice: branches, min: min, max: max}
}

// validationError is the first schema violation found.
type validationError struct {
	line int
	msg  string
}

func notExpected(n *node, expected []string) *validationError {
	msg := fmt.Sprintf("Element '%s': This element is not expected.", n.name)
	return &validationError{line: n.line, msg: msg + expectedList(expected)}
}

func missingChild(n *node, expected []string) *validationError {
	return &validationError{line: n.line, msg: fmt.Sprintf("Element '%s': Missing child element(s).%s", n.name, expectedList(expected))}
}

func expectedList(expected []string) string {
	var uniq []string
	seen := map[string]bool{}
	for _, e := range expected {
		if !seen[e] {
			seen[e] = true
			uniq = append(uniq, e)
		}
	}
	// libxml2 lists at most 10 expected names (its xmlRegExecErrInfo
	// buffer); REC-2's operator list stops at exactly 10 [INF].
	if len(uniq) > maxExpected {
		uniq = uniq[:maxExpected]
	}
	switch len(uniq) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(" Expected is ( %s ).", uniq[0])
	default:
		return fmt.Sprintf(" Expected is one of ( %s ).", strings.Join(uniq, ", "))
	}
}

const maxExpected = 10

// validateRoot checks the packet element against d.
func validateRoot(n *node, d *decl) *validationError {
	if n.name != d.name {
		return &validationError{line: n.line, msg: fmt.Sprintf("Element '%s': No matching global declaration available for the validation root.", n.name)}
	}
	return validateNode(n, d)
}

var (
	reInteger  = regexp.MustCompile(`^[+-]?[0-9]+$`)
	rePositive = regexp.MustCompile(`^\+?[0-9]+$`)
)

func validateNode(n *node, d *decl) *validationError {
	if d.typ == stAny {
		return nil
	}
	for _, a := range n.attrs {
		name := a.Name.Local
		if a.Name.Space != "" {
			name = a.Name.Space + ":" + name
		}
		allowed := false
		for _, x := range d.attrs {
			if a.Name.Space == "" && x == a.Name.Local {
				allowed = true
			}
		}
		if !allowed {
			return &validationError{line: n.line, msg: fmt.Sprintf("Element '%s', attribute '%s': The attribute '%s' is not allowed.", n.name, name, name)}
		}
	}
	switch d.typ {
	case stEmpty:
		if len(n.children) > 0 {
			return notExpected(n.children[0], nil)
		}
		if strings.TrimFunc(n.text.String(), isXMLSpace) != "" {
			return &validationError{line: n.line, msg: fmt.Sprintf("Element '%s': Character content is not allowed, because the content type is empty.", n.name)}
		}
		return nil
	case stComplex:
		if strings.TrimFunc(n.text.String(), isXMLSpace) != "" {
			return &validationError{line: n.line, msg: fmt.Sprintf("Element '%s': Character content other than whitespace is not allowed because the content type is 'element-only'.", n.name)}
		}
		return matchContent(n, d)
	}
	// Simple types.
	if len(n.children) > 0 {
		return &validationError{line: n.line, msg: fmt.Sprintf("Element '%s': Element content is not allowed, because the type definition is simple.", n.name)}
	}
	v := n.value()
	bad := func(typeName string) *validationError {
		return &validationError{line: n.line, msg: fmt.Sprintf("Element '%s': '%s' is not a valid value of the atomic type '%s'.", n.name, v, typeName)}
	}
	switch d.typ {
	case stInt:
		if !reInteger.MatchString(v) {
			return bad("int")
		}
	case stStatus:
		if !reInteger.MatchString(v) {
			return bad("objectStatus")
		}
	case stID:
		if !rePositive.MatchString(v) || strings.Trim(strings.TrimPrefix(v, "+"), "0") == "" {
			return bad("id_type")
		}
	case stLong:
		if !reInteger.MatchString(v) {
			return bad("long")
		}
		b, _ := new(big.Int).SetString(v, 10)
		if b == nil || !b.IsInt64() {
			return bad("long")
		}
	case stBool:
		switch v {
		case "true", "false", "1", "0":
		default:
			return bad("boolean")
		}
	case stString:
		if len(d.enum) > 0 {
			ok := false
			for _, e := range d.enum {
				if e == v {
					ok = true
				}
			}
			if !ok {
				return &validationError{line: n.line, msg: fmt.Sprintf("Element '%s': [facet 'enumeration'] The value '%s' is not an element of the set {'%s'}.", n.name, v, strings.Join(d.enum, "', '"))}
			}
		}
	}
	return nil
}

// matchContent matches n's children against d's sequence greedily. The
// models are deterministic (XSD's unique particle attribution), so greedy
// matching is exact for them.
func matchContent(n *node, d *decl) *validationError {
	kids := n.children
	i := 0
	var expected []string // names acceptable at position i
	fail := func() *validationError {
		if i < len(kids) {
			return notExpected(kids[i], expected)
		}
		return missingChild(n, expected)
	}
	for _, p := range d.content {
		switch {
		case p.el != nil:
			cnt := 0
			for i < len(kids) && kids[i].name == p.el.name && (p.el.max == unbounded || cnt < p.el.max) {
				if e := validateNode(kids[i], p.el); e != nil {
					return e
				}
				i++
				cnt++
			}
			if cnt > 0 {
				expected = expected[:0]
			}
			if p.el.max == unbounded || cnt < p.el.max {
				expected = append(expected, p.el.name)
			}
			if cnt < p.el.min {
				return fail()
			}
		case p.all != nil:
			seen := map[string]bool{}
			for i < len(kids) {
				var b *decl
				for _, x := range p.all {
					if x.name == kids[i].name && !seen[x.name] {
						b = x
					}
				}
				if b == nil {
					break
				}
				if e := validateNode(kids[i], b); e != nil {
					return e
				}
				seen[b.name] = true
				i++
				expected = expected[:0]
			}
			for _, x := range p.all {
				if !seen[x.name] {
					expected = append(expected, x.name)
				}
			}
		default:
			rounds := 0
			for (p.max == unbounded || rounds < p.max) && i < len(kids) {
				var b *decl
				for _, x := range p.choice {
					if x.name == kids[i].name {
						b = x
					}
				}
				if b == nil {
					break
				}
				cnt := 0
				for i < len(kids) && kids[i].name == b.name && (b.max == unbounded || cnt < b.max) {
					if e := validateNode(kids[i], b); e != nil {
						return e
					}
					i++
					cnt++
				}
				rounds++
				expected = expected[:0]
				if b.max == unbounded || cnt < b.max {
					expected = append(expected, b.name)
				}
			}
			if p.max == unbounded || rounds < p.max {
				if p.names != nil {
					expected = append(expected, p.names...)
				} else {
					for _, x := range p.choice {
						expected = append(expected, x.name)
					}
				}
			}
			if rounds < p.min {
				return fail()
			}
		}
	}
	if i < len(kids) {
		return notExpected(kids[i], expected)
	}
	return nil
}

// Names accepted by legacy SET and listed by the descriptors.
// Limits: max_dom … expiration are documented (PROTOCOL.md §6.2);
// [GUESS] max_redir, max_mg, max_resp, max_wu, max_maillists, max_webapps,
// mbox_quota mirror Plesk 8 client limits and are not from a source.
var limitNames = []string{
	"max_dom", "max_subdom", "max_dom_aliases", "disk_space", "max_traffic", "max_db",
	"max_box", "mysql_dbase_space", "total_mboxes_quota", "expiration",
	"max_redir", "max_mg", "max_resp", "max_wu", "max_maillists", "max_webapps", "mbox_quota",
}

// permissionNames: manage_sh_access and manage_virusfilter are documented;
// remote_access_interface is documented as a user permission; every other
// name is [GUESS] (the Plesk 8 UI list, PROTOCOL.md §6.3).
var permissionNames = []string{
	"create_domains", "manage_phosting", "manage_quota", "manage_subdomains", "change_limits",
	"manage_dns", "manage_log", "manage_crontab", "manage_anonftp", "manage_webapps",
	"manage_maillists", "manage_sh_access", "manage_virusfilter", "manage_spamfilter",
	"manage_domain_aliases", "remote_access_interface",
}

// filterDecl is the client/customer selection filter valid at v: a choice of
// one kind of child, repeatable; blank allowed. id always; login since
// 1.4.0.0 (1.3.x filters by id only, PROTOCOL.md §4.2); owner-id/owner-login since 1.6.0.0
// [INF]; guid/external-id since 1.6.3.0 [GUESS for the exact version].
func filterDecl(v version) particle {
	branches := []*decl{elem("id", stID, 0, unbounded)}
	if v.atLeast(v1400) {
		branches = append(branches, elem("login", stString, 0, unbounded))
	}
	if v.atLeast(v1600) {
		branches = append(branches, elem("owner-id", stInt, 0, unbounded), elem("owner-login", stString, 0, unbounded))
	}
	if v.atLeast(v1630) {
		branches = append(branches, elem("guid", stString, 0, unbounded), elem("external-id", stString, 0, unbounded))
	}
	return particle{el: &decl{name: "filter", typ: stComplex, min: 1, max: 1, content: []particle{choice(0, 1, branches...)}}}
}

// contactFields are the gen_info elements after status, in sequence order.
var contactFields = []string{"phone", "fax", "email", "address", "city", "state", "pcode", "country", "locale"}

// genInfoDecl builds add (required pname/login/passwd) or set gen_info.
func genInfoDecl(v version, add bool) particle {
	mk := opt
	if add {
		mk = req
	}
	c := []particle{opt("cname", stString), mk("pname", stString), mk("login", stString), mk("passwd", stString), opt("status", stStatus)}
	for _, f := range contactFields {
		c = append(c, opt(f, stString))
	}
	modern := v.atLeast(v1630)
	switch {
	case add && v.atLeast(v1660):
		c = append(c, choice(0, 1, elem("owner-id", stInt, 1, 1), elem("owner-login", stString, 1, 1), elem("owner-external-id", stString, 1, 1)))
	case add && v.atLeast(v1600):
		c = append(c, choice(0, 1, elem("owner-id", stInt, 1, 1), elem("owner-login", stString, 1, 1)))
	case !add && modern:
		c = append(c, opt("guid", stEmpty))
	}
	if modern {
		c = append(c, opt("external-id", stString))
	}
	if v.atLeast(v1660) {
		c = append(c, opt("description", stString))
	}
	return cplx("gen_info", 1, 1, c...)
}

func limitsDecl(v version) particle {
	if v.atLeast(v1500) {
		overuse := elem("overuse", stString, 0, 1)
		overuse.enum = []string{"block", "notify", "normal"}
		return cplx("limits", 0, 1,
			particle{el: &decl{name: "resource-policy", typ: stComplex, min: 0, max: 1, content: []particle{{el: overuse}}}},
			cplx("limit", 0, unbounded, req("name", stString), req("value", stLong)))
	}
	// ≤ 1.4.2.0: one named element per limit. Any order [GUESS: xs:all].
	var named []*decl
	for _, n := range limitNames {
		named = append(named, elem(n, stLong, 0, 1))
	}
	return cplx("limits", 0, 1, particle{all: named})
}

// permissionsDecl follows limitsDecl: named elements up to 1.4.2.0 (any
// order [GUESS: xs:all]), <permission><name/><value/> pairs from 1.5.0.0.
func permissionsDecl(v version) particle {
	if v.atLeast(v1500) {
		return cplx("permissions", 0, 1, cplx("permission", 1, unbounded, req("name", stString), req("value", stBool)))
	}
	var named []*decl
	for _, n := range permissionNames {
		named = append(named, elem(n, stBool, 0, 1))
	}
	return cplx("permissions", 0, 1, particle{all: named})
}

// operatorDecl declares <client> (v < 1.6.3.0) or <customer> (v ≥ 1.6.3.0)
// with the operations of that version (PROTOCOL.md §8): those of the
// operations table (simOps) whose schema has them at v, in schema order.
func operatorDecl(v version) *decl {
	var ops []*decl
	for _, o := range simOps {
		if content, ok := o.schema(v); ok {
			ops = append(ops, &decl{name: o.name, typ: stComplex, min: 1, max: 1, content: content})
		}
	}
	name := "client"
	if v.atLeast(v1630) {
		name = "customer"
	}
	return &decl{name: name, typ: stComplex, min: 1, max: 1, content: []particle{choice(1, unbounded, ops...)}}
}

// packetSchema declares the request packet accepted at v. The server
// operator has get_protos and get (key, gen_info, stat: the parts real
// client libraries call first, PROTOCOL.md §15).
func packetSchema(v version) *decl {
	server := &decl{name: "server", typ: stComplex, min: 1, max: 1,
		content: []particle{choice(1, unbounded,
			elem("get_protos", stEmpty, 1, 1),
			&decl{name: "get", typ: stComplex, min: 1, max: 1,
				content: []particle{opt("key", stEmpty), opt("gen_info", stEmpty), opt("stat", stEmpty)}})}}
	var content []particle
	if v.atLeast(v1690) {
		content = append(content, cplx("request-settings", 0, 1,
			cplx("setting", 1, unbounded, req("name", stAny), opt("value", stAny))))
	}
	ops := choice(1, unbounded, operatorDecl(v), server)
	ops.names = operatorNames(v)
	content = append(content, ops)
	return &decl{name: "packet", typ: stComplex, min: 1, max: 1, attrs: []string{"version"}, content: content}
}

// operatorNames is the operator choice of the whole schema at v, in schema
// order, as a 1014 for an unexpected operator lists it (10 at most with
// request-settings, see maxExpected):
//   - ≥ 1.6.9.0: [REC-2] Obsidian's list, without migration;
//   - 1.6.3.0 … 1.6.8.0: [DOC] agent_input.xsd of XSD-1.6.6 (with migration);
//   - < 1.6.3.0: [GUESS] the same with client for customer and domain for
//     webspace (no legacy agent_input.xsd was found).
func operatorNames(v version) []string {
	switch {
	case v.atLeast(v1690):
		return []string{"server", "customer", "webspace", "subdomain", "dns", "db_server", "mail", "certificate", "site-alias", "ip"}
	case v.atLeast(v1630):
		return []string{"server", "customer", "webspace", "subdomain", "dns", "db_server", "mail", "migration", "certificate", "site-alias"}
	}
	return []string{"server", "client", "domain", "subdomain", "dns", "db_server", "mail", "migration", "certificate", "domain_alias"}
}

package plesksim

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// simOp is one operation of the client/customer operator, stated once, in
// the file that implements it (registerOp): its element, its place in the
// operator's xs:choice, the content model each protocol version gives it
// (the schema, and so which versions have it) and what it does. The
// validator (operatorDecl), the dispatch (opctx.run) and start-up (New)
// read the table; nothing else names operations.
type simOp struct {
	name string
	// pos is the operation's place in the operator's xs:choice, the order
	// a 1014 lists the expected operations in (schema order, one order for
	// both operators: add 10, get 20, del 30, set 40, ippool_add_ip 50,
	// ippool_del_ip 60, cform_buttons_list 70, get-limit-descriptor 80,
	// get-permission-descriptor 90, convert-to-reseller 100, change-owner
	// 110, get-domain-list 120).
	pos int
	// schema returns the content model of the operation element at v
	// (under <client> below 1.6.3.0, <customer> from it), and false when
	// v's schema lacks the operation.
	schema func(v version) ([]particle, bool)
	// run answers one validated operation element; s.mu is held.
	run func(x *opctx, op *node)
	// seed, when set, creates the operation's start-up data, after the
	// accounts and the demo clients (New); s is not yet shared.
	seed func(s *Server) error
}

// simOps is the operations table, in pos order.
var simOps []*simOp

// registerOp adds op to simOps, in pos order, and returns it. Two
// operations of one name or one pos panic at start-up.
func registerOp(op *simOp) *simOp {
	i, found := slices.BinarySearchFunc(simOps, op.pos, func(o *simOp, pos int) int { return cmp.Compare(o.pos, pos) })
	if found || slices.ContainsFunc(simOps, func(o *simOp) bool { return o.name == op.name }) {
		panic("plesksim: operation " + op.name + " registered twice")
	}
	simOps = slices.Insert(simOps, i, op)
	return op
}

// opctx carries what every operation of one packet needs. s.mu is held.
type opctx struct {
	s      *Server
	v      version
	caller *user
	w      *xw
}

// execute runs a validated packet: operators and operations in document
// order, one response element per request element, no rollback.
func (s *Server) execute(echo string, v version, caller *user, root *node) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var w xw
	w.startPacket(echo)
	for _, opr := range root.children {
		if opr.name == "request-settings" {
			continue
		}
		w.open(opr.name)
		for _, op := range opr.children {
			s.ops[opr.name+"/"+op.name]++
			var inner xw
			x := &opctx{s: s, v: v, caller: caller, w: &inner}
			x.run(opr.name, op)
			if inner.b.Len() == 0 {
				w.empty(op.name)
			} else {
				w.open(op.name)
				w.b.WriteString(inner.b.String())
				w.close(op.name)
			}
		}
		w.close(opr.name)
	}
	return w.endPacket()
}

func (x *opctx) run(operator string, op *node) {
	if operator == "server" {
		if op.name == "get" {
			x.serverGet(op)
		} else {
			x.getProtos()
		}
		return
	}
	if operator == "client" && x.s.cfg.RefuseLegacyResult {
		x.refuseLegacyResult()
		return
	}
	// Clients may log in, but the client/customer operator is for the
	// administrator and resellers only (PROTOCOL.md §10.9); [GUESS] it is
	// refused per operation (1006), so get_protos in the same packet works.
	// Resellers may use the client operator only from 1.6.0.0, where the
	// owner concept arrived (PROTOCOL.md §8) [INF].
	if x.caller.kind == kindClient || (x.caller.kind == kindReseller && !x.v.atLeast(v1600)) {
		x.w.errResult(errPermission, "Permission denied.", nil)
		return
	}
	i := slices.IndexFunc(simOps, func(o *simOp) bool { return o.name == op.name })
	if i < 0 {
		panic("plesksim: validated operation without implementation: " + op.name)
	}
	simOps[i].run(x, op)
}

func (x *opctx) getProtos() {
	w := x.w
	w.open("result")
	w.leaf("status", "ok")
	w.open("protos")
	for _, v := range x.s.versions {
		w.leaf("proto", v.String())
	}
	w.close("protos")
	w.close("result")
}

// ---- filters and result heads ----

// eachTarget calls fn for every (filter value, client) pair selected by the
// filter, in filter-value order and then ID order. A value that selects no
// visible client calls fn once with u == nil. Matches are computed right
// before fn runs for that value, so earlier values' effects are seen. A blank
// filter selects every visible client, each with its own id as filter-id
// [REC-1].
func (x *opctx) eachTarget(f *node, fn func(fid string, hasFid bool, u *user)) {
	if len(f.children) == 0 {
		for _, u := range slices.Clone(x.s.users) {
			if visible(x.caller, u) && x.s.userByID(u.id) == u {
				fn(strconv.Itoa(u.id), true, u)
			}
		}
		return
	}
	for _, c := range f.children {
		val := c.value()
		var matched []*user
		if c.name == "id" {
			// Ids are unique: look the client up instead of scanning every
			// user with a parse per comparison, so that a get by 1,000 ids
			// stays O(ids), as gateway pages filtered by id need.
			if n, ok := parseIntValue(val); ok {
				if u := x.s.userByID(int(n)); u != nil && int64(u.id) == n && visible(x.caller, u) {
					matched = append(matched, u)
				}
			}
		} else {
			for _, u := range x.s.users {
				if visible(x.caller, u) && x.matches(c.name, val, u) {
					matched = append(matched, u)
				}
			}
		}
		if len(matched) == 0 {
			fn(val, true, nil)
			continue
		}
		for _, u := range matched {
			fn(val, true, u)
		}
	}
}

func (x *opctx) matches(kind, val string, u *user) bool {
	switch kind {
	case "id":
		n, ok := parseIntValue(val)
		return ok && n == int64(u.id)
	case "login":
		return u.login == val
	case "owner-id":
		n, ok := parseIntValue(val)
		return ok && n == int64(u.c.ownerID)
	case "owner-login":
		o := x.s.userByID(u.c.ownerID)
		return o != nil && o.login == val
	case "guid":
		return strings.EqualFold(u.guid, val)
	case "external-id":
		return val != "" && u.c.extID == val
	}
	return false
}

// parseIntValue parses a validated xs:integer; out-of-range values match nothing.
func parseIntValue(v string) (int64, bool) {
	b, ok := new(big.Int).SetString(strings.TrimPrefix(v, "+"), 10)
	if !ok || !b.IsInt64() {
		return 0, false
	}
	return b.Int64(), true
}

// head writes filter-id (from 1.4.2.0, when the filter was not blank) and id.
func (x *opctx) head(fid string, hasFid bool, id int) {
	if hasFid && x.v.atLeast(v1420) {
		x.w.leaf("filter-id", fid)
	}
	if id > 0 {
		x.w.leafInt("id", int64(id))
	}
}

func (x *opctx) ok(fid string, hasFid bool, id int, body func()) {
	x.w.open("result")
	x.w.leaf("status", "ok")
	x.head(fid, hasFid, id)
	if body != nil {
		body()
	}
	x.w.close("result")
}

func (x *opctx) fail(code int, text, fid string, hasFid bool, id int) {
	x.w.errResult(code, text, func() { x.head(fid, hasFid, id) })
}

func (x *opctx) notFound(fid string, hasFid bool) {
	x.fail(errNotFound, "Object not found.", fid, hasFid, 0)
}

// ---- gen_info fields ----

// stringField maps a gen_info element to the client field it sets.
func (c *client) stringField(name string) *string {
	switch name {
	case "cname":
		return &c.cname
	case "pname":
		return &c.pname
	case "phone":
		return &c.phone
	case "fax":
		return &c.fax
	case "email":
		return &c.email
	case "address":
		return &c.address
	case "city":
		return &c.city
	case "state":
		return &c.state
	case "pcode":
		return &c.pcode
	case "country":
		return &c.country
	case "locale":
		return &c.locale
	case "external-id":
		return &c.extID
	case "description":
		return &c.desc
	}
	return nil
}

// checkStatus enforces the settable statuses 0 and 16 (PROTOCOL.md §3.1).
func checkStatus(v string) (int, bool) {
	n, ok := parseIntValue(v)
	if !ok || (n != 0 && n != 16) {
		return 0, false
	}
	return int(n), true
}

func (x *opctx) extIDTaken(ext string, except *user) bool {
	if ext == "" {
		return false
	}
	for _, u := range x.s.users {
		if u != except && u.kind == kindClient && u.c.extID == ext {
			return true
		}
	}
	return false
}

// existsText is the recorded 1007 errtext for a login taken [REC-1].
func existsText(login string) string {
	return fmt.Sprintf("Client with login name '%s' already exists.", login)
}

// setNotFoundText is the recorded 1013 errtext of a set whose filter value
// matches no client [REC-1]; other operations keep the documented generic
// "Object not found." [DOC 33764].
const setNotFoundText = "client does not exist"

// ---- ADD ----

// add: client/add (1.3.x gen_info only, PROTOCOL.md §7.1; a template choice
// from 1.4.0.0) and customer/add.
var _ = registerOp(&simOp{name: "add", pos: 10, run: (*opctx).add,
	schema: func(v version) ([]particle, bool) {
		if v.atLeast(v1400) && !v.atLeast(v1630) {
			return []particle{genInfoDecl(v, true), choice(0, 1, elem("template-id", stID, 1, 1), elem("template-name", stString, 1, 1))}, true
		}
		return []particle{genInfoDecl(v, true)}, true
	}})

func (x *opctx) add(op *node) {
	gi := op.child("gen_info")
	c := &client{limits: map[string]int64{}, perms: map[string]bool{}}
	var login, passwd string
	for _, f := range gi.children {
		val := f.value()
		switch f.name {
		case "login":
			login = val
		case "passwd":
			passwd = val
		case "status":
			st, ok := checkStatus(val)
			if !ok {
				x.w.errResult(errWrongStatus, "Wrong status value.", nil)
				return
			}
			c.status = st
		default:
			if p := c.stringField(f.name); p != nil {
				*p = val
			}
		}
	}
	// [GUESS] 1019 for an empty passwd (the XSD allows empty strings);
	// pname and login by their documented lengths [DOC].
	for _, f := range gi.children {
		if text := checkLength(f.name, f.value()); text != "" {
			x.w.errResult(errInvalidValue, text, nil)
			return
		}
	}
	if passwd == "" {
		x.w.errResult(errInvalidValue, "Invalid value: passwd must not be empty.", nil)
		return
	}
	if gi.child("locale") == nil {
		c.locale = x.s.cfg.Locale // the server default [REC-1]
	}
	// Owner: given owner-* must be the administrator or a reseller (1015);
	// omitted → the caller. [GUESS] a reseller naming another owner → 1006.
	owner := x.caller
	if o := gi.child("owner-id"); o != nil {
		n, ok := parseIntValue(o.value())
		owner = nil
		if ok {
			owner = x.s.userByID(int(n))
		}
	} else if o := gi.child("owner-login"); o != nil {
		owner = x.s.userByLogin(o.value())
	} else if o := gi.child("owner-external-id"); o != nil {
		owner = nil
		for _, u := range x.s.users {
			if u.kind == kindReseller && u.extID != "" && u.extID == o.value() {
				owner = u
			}
		}
	}
	if owner == nil || owner.kind == kindClient {
		x.w.errResult(errOwnerNotFound, "Object owner not found.", nil)
		return
	}
	if x.caller.kind == kindReseller && owner != x.caller {
		x.w.errResult(errPermission, "Permission denied.", nil)
		return
	}
	if x.s.userByLogin(login) != nil {
		x.w.errResult(errExists, existsText(login), nil)
		return
	}
	if x.extIDTaken(c.extID, nil) { // [GUESS] external-id unique among clients (1007)
		x.w.errResult(errExists, "Inserted data already exists.", nil)
		return
	}
	if p := x.s.cfg.PasswordPolicy; !p.Allows(passwd) {
		x.w.errResult(errPasswordPolicy, passwordPolicyText(p), nil)
		return
	}
	c.ownerID = owner.id
	c.crDate = x.s.cfg.Now().Format("2006-01-02")
	u := x.s.addClient(login, passwd, c)
	x.w.open("result")
	x.w.leaf("status", "ok")
	x.w.leafInt("id", int64(u.id))
	if x.v.atLeast(v1630) {
		x.w.leaf("guid", u.guid)
	}
	x.w.close("result")
}

// ---- GET ----

// get: the modern dataset has gen_info and stat; the legacy one also
// permissions, limits and ippool.
var _ = registerOp(&simOp{name: "get", pos: 20, run: (*opctx).get,
	schema: func(v version) ([]particle, bool) {
		data := []particle{opt("gen_info", stAny), opt("stat", stAny)}
		if !v.atLeast(v1630) {
			data = append(data, opt("permissions", stAny), opt("limits", stAny), opt("ippool", stAny))
		}
		return []particle{filterDecl(v), cplx("dataset", 1, 1, data...)}, true
	}})

func (x *opctx) get(op *node) {
	ds := op.child("dataset")
	x.eachTarget(op.child("filter"), func(fid string, hasFid bool, u *user) {
		if u == nil {
			x.notFound(fid, hasFid)
			return
		}
		x.ok(fid, hasFid, u.id, func() {
			if len(ds.children) == 0 {
				x.w.empty("data")
				return
			}
			x.w.open("data")
			for _, d := range ds.children {
				switch d.name {
				case "gen_info":
					x.genInfo(u)
				case "stat":
					x.stat()
				case "permissions":
					x.permissions(u)
				case "limits":
					x.limits(u)
				case "ippool":
					x.ippoolData(u)
				}
			}
			x.w.close("data")
		})
	})
}

// genInfo writes clientGetGenInfo in the order REC-1 recorded: the 14
// required elements (empty when unset), guid, owner-id for a reseller's
// client or owner-login for the administrator's (never both) [REC-1],
// vendor-guid, external-id, password (crypt hash), password_type [REC-1];
// description from 1.6.6.0 only ([REC-1]: none at 1.6.3.5), after
// password_type [GUESS: its place is not recorded]. Legacy: no
// guid/vendor-guid/external-id; owner only from 1.6.0.0 [INF];
// password/password_type from 1.3.5.0 [XSD annotation "since 1.3.5"].
func (x *opctx) genInfo(u *user) {
	w, c := x.w, u.c
	w.open("gen_info")
	w.leaf("cr_date", c.crDate)
	w.leaf("cname", c.cname)
	w.leaf("pname", c.pname)
	w.leaf("login", u.login)
	w.leafInt("status", int64(c.status))
	for _, f := range contactFields {
		w.leaf(f, *c.stringField(f))
	}
	owner := x.s.userByID(c.ownerID)
	modern := x.v.atLeast(v1630)
	if modern {
		w.leaf("guid", u.guid)
	}
	if x.v.atLeast(v1600) && owner != nil {
		if owner.kind == kindAdmin {
			w.leaf("owner-login", owner.login)
		} else {
			w.leafInt("owner-id", int64(owner.id))
		}
	}
	if modern {
		if owner != nil {
			w.leaf("vendor-guid", owner.guid)
		}
		w.leaf("external-id", c.extID)
	}
	if x.v.atLeast(v1350) {
		w.leaf("password", u.pwHash)
		w.leaf("password_type", "crypt")
	}
	if x.v.atLeast(v1660) {
		w.leaf("description", c.desc)
	}
	w.close("gen_info")
}

// stat: every counter is 0 (the simulator hosts nothing); webapps is gone in 1.6.9.1.
func (x *opctx) stat() {
	w := x.w
	w.open("stat")
	for _, n := range []string{"active_domains", "subdomains", "disk_space", "postboxs", "redirects",
		"mail_groups", "mail_resps", "mail_lists", "web_users", "data_bases"} {
		w.leaf(n, "0")
	}
	if !x.v.atLeast(v1691) {
		w.leaf("webapps", "0")
	}
	w.leaf("traffic", "0")
	w.leaf("traffic_prevday", "0")
	w.close("stat")
}

// limitDefault is the value of a limit never set: unlimited [GUESS -1].
const limitDefault = -1

// limits writes every known limit (set value or -1): named elements up to
// 1.4.2.0, <limit><name/><value/> pairs from 1.5.0.0.
func (x *opctx) limits(u *user) {
	w := x.w
	w.open("limits")
	pairs := x.v.atLeast(v1500)
	if pairs && u.c.overuse != "" {
		w.open("resource-policy")
		w.leaf("overuse", u.c.overuse)
		w.close("resource-policy")
	}
	for _, n := range limitNames {
		val, ok := u.c.limits[n]
		if !ok {
			val = limitDefault
		}
		if pairs {
			w.open("limit")
			w.leaf("name", n)
			w.leafInt("value", val)
			w.close("limit")
		} else {
			w.leafInt(n, val)
		}
	}
	w.close("limits")
}

// permissionDefault is the value of a permission never set [GUESS false].
const permissionDefault = false

// permissions writes every known permission: named boolean elements up to
// 1.4.2.0, <permission><name/><value/> pairs from 1.5.0.0 ([INF] from the
// PROTOCOL.md §8 row for 1.5.0.0, "limits/permissions as pairs", the same
// reading the translator makes).
func (x *opctx) permissions(u *user) {
	w := x.w
	w.open("permissions")
	pairs := x.v.atLeast(v1500)
	for _, n := range permissionNames {
		val, ok := u.c.perms[n]
		if !ok {
			val = permissionDefault
		}
		if !pairs {
			w.leaf(n, strconv.FormatBool(val))
			continue
		}
		w.open("permission")
		w.leaf("name", n)
		w.leaf("value", strconv.FormatBool(val))
		w.close("permission")
	}
	w.close("permissions")
}

func (x *opctx) ippoolData(u *user) {
	if len(u.c.ippool) == 0 {
		x.w.empty("ippool")
		return
	}
	x.w.open("ippool")
	for _, ip := range u.c.ippool {
		x.w.open("ip")
		x.w.leaf("ip-address", ip)
		x.w.leaf("ip-type", "shared")
		x.w.close("ip")
	}
	x.w.close("ippool")
}

// ---- SET ----

// set: gen_info; the legacy values also limits and permissions.
var _ = registerOp(&simOp{name: "set", pos: 40, run: (*opctx).set,
	schema: func(v version) ([]particle, bool) {
		set := genInfoDecl(v, false)
		set.el.min = 0
		values := []particle{set}
		if !v.atLeast(v1630) {
			values = append(values, limitsDecl(v), permissionsDecl(v))
		}
		return []particle{filterDecl(v), cplx("values", 1, 1, values...)}, true
	}})

func (x *opctx) set(op *node) {
	values := op.child("values")
	gi := values.child("gen_info")
	lim := values.child("limits")
	perm := values.child("permissions")
	x.eachTarget(op.child("filter"), func(fid string, hasFid bool, u *user) {
		if u == nil {
			x.fail(errNotFound, setNotFoundText, fid, hasFid, 0)
			return
		}
		code, text := x.checkSet(u, gi, lim, perm)
		if code != 0 {
			x.fail(code, text, fid, hasFid, u.id)
			return
		}
		x.applySet(u, gi, lim, perm)
		x.ok(fid, hasFid, u.id, nil)
	})
}

// checkSet validates a SET for one client before anything changes, so a
// refused SET leaves that client untouched.
func (x *opctx) checkSet(u *user, gi, lim, perm *node) (int, string) {
	for _, f := range childrenOf(gi) {
		val := f.value()
		if text := checkLength(f.name, val); text != "" {
			return errInvalidValue, text
		}
		switch f.name {
		case "login":
			if o := x.s.userByLogin(val); o != nil && o != u {
				return errExists, existsText(val)
			}
		case "passwd":
			if val == "" {
				return errInvalidValue, "Invalid value: passwd must not be empty."
			}
			if p := x.s.cfg.PasswordPolicy; !p.Allows(val) {
				return errPasswordPolicy, passwordPolicyText(p)
			}
		case "status":
			if _, ok := checkStatus(val); !ok {
				return errWrongStatus, "Wrong status value."
			}
		case "external-id":
			if x.extIDTaken(val, u) {
				return errExists, "Inserted data already exists."
			}
		}
	}
	// [GUESS] 1019 for a limit or permission name the descriptors do not list.
	for _, l := range childrenOf(lim) {
		if l.name == "limit" && !slices.Contains(limitNames, l.child("name").value()) {
			return errInvalidValue, fmt.Sprintf("Invalid value: unknown limit %q.", l.child("name").value())
		}
	}
	for _, p := range childrenOf(perm) {
		if p.name != "permission" {
			continue // ≤ 1.4.2.0 named element: the schema only admits known names
		}
		if !slices.Contains(permissionNames, p.child("name").value()) {
			return errInvalidValue, fmt.Sprintf("Invalid value: unknown permission %q.", p.child("name").value())
		}
	}
	return 0, ""
}

func childrenOf(n *node) []*node {
	if n == nil {
		return nil
	}
	return n.children
}

func (x *opctx) applySet(u *user, gi, lim, perm *node) {
	c := u.c
	for _, f := range childrenOf(gi) {
		val := f.value()
		switch f.name {
		case "login":
			x.s.renameUser(u, val)
		case "passwd":
			u.password = val
			u.pwHash = x.s.passwordHash(val)
		case "status":
			c.status, _ = checkStatus(val)
		case "guid":
			u.guid = newGUID() // [GUESS] <guid/> regenerates the GUID
		default:
			if p := c.stringField(f.name); p != nil {
				*p = val
			}
		}
	}
	for _, l := range childrenOf(lim) {
		switch l.name {
		case "resource-policy":
			if o := l.child("overuse"); o != nil {
				c.overuse = o.value()
			}
		case "limit":
			n, _ := parseIntValue(l.child("value").value())
			c.limits[l.child("name").value()] = n
		default: // ≤ 1.4.2.0 named element
			n, _ := parseIntValue(l.value())
			c.limits[l.name] = n
		}
	}
	for _, p := range childrenOf(perm) {
		name, v := p.name, p.value()
		if name == "permission" {
			name, v = p.child("name").value(), p.child("value").value()
		}
		c.perms[name] = v == "true" || v == "1"
	}
}

// ---- DEL ----

var _ = registerOp(&simOp{name: "del", pos: 30, run: (*opctx).del,
	schema: func(v version) ([]particle, bool) { return []particle{filterDecl(v)}, true }})

// del removes each selected client with everything it holds (IP pool,
// limits, permissions live on the client record).
func (x *opctx) del(op *node) {
	x.eachTarget(op.child("filter"), func(fid string, hasFid bool, u *user) {
		if u == nil {
			x.notFound(fid, hasFid)
			return
		}
		x.s.removeUser(u)
		x.ok(fid, hasFid, u.id, nil)
	})
}

// ---- CONVERT-TO-RESELLER ----

// convert-to-reseller: from 1.6.0.0; reseller-plan-name from 1.6.3.0.
var _ = registerOp(&simOp{name: "convert-to-reseller", pos: 100, run: (*opctx).convert,
	schema: func(v version) ([]particle, bool) {
		if v.atLeast(v1630) {
			return []particle{filterDecl(v), opt("reseller-plan-name", stString)}, true
		}
		return []particle{filterDecl(v)}, v.atLeast(v1600)
	}})

// convert turns clients into resellers (administrator only, 1006 otherwise;
// [GUESS] the administrator may also convert a reseller's client).
// The reseller keeps ID, login, password, GUID and external-id, can log in
// and own clients; it no longer appears as a client (1013).
func (x *opctx) convert(op *node) {
	if x.caller.kind != kindAdmin {
		x.w.errResult(errPermission, "Permission denied.", nil)
		return
	}
	plan := x.s.cfg.ResellerPlans[0]
	planOK := true
	if p := op.child("reseller-plan-name"); p != nil {
		plan = p.value()
		planOK = slices.Contains(x.s.cfg.ResellerPlans, plan)
	}
	x.eachTarget(op.child("filter"), func(fid string, hasFid bool, u *user) {
		if u == nil {
			x.notFound(fid, hasFid)
			return
		}
		if !planOK { // [GUESS] 1013 for an unknown reseller plan
			x.fail(errNotFound, fmt.Sprintf("Reseller plan %s does not exist.", plan), fid, hasFid, u.id)
			return
		}
		u.kind = kindReseller
		u.extID = u.c.extID
		u.plan = plan
		u.c = nil
		x.ok(fid, hasFid, u.id, nil)
	})
}

// ---- CHANGE-OWNER ----

// change-owner: from 1.6.0.0; IP addresses and plan-name from 1.6.3.0.
var _ = registerOp(&simOp{name: "change-owner", pos: 110, run: (*opctx).changeOwner,
	schema: func(v version) ([]particle, bool) {
		if v.atLeast(v1630) {
			return []particle{filterDecl(v), req("new-owner-login", stString), many("ipV4-address", stString, 0),
				many("ipV6-address", stString, 0), opt("plan-name", stString)}, true
		}
		return []particle{filterDecl(v), req("new-owner-login", stString)}, v.atLeast(v1600)
	}})

// ownsPlan reports whether service plan name belongs to owner: plan-name is
// "the new owner's hosting plan" [DOC 73470].
func (s *Server) ownsPlan(owner *user, name string) bool {
	if owner.kind == kindAdmin && slices.Contains(s.cfg.HostingPlans, name) {
		return true
	}
	for _, p := range s.cfg.Plans {
		o := p.Owner
		if o == "" {
			o = s.cfg.AdminLogin
		}
		if p.Name == name && o == owner.login {
			return true
		}
	}
	return false
}

// changeOwner moves clients to the administrator or a reseller (1015
// otherwise). A reseller caller only selects its own clients (others are
// 1013 like everywhere) [decision]. From 1.6.3.0 at least one ipV4-address
// or ipV6-address is required ([GUESS] 1019), each must be one of the
// server's IPs ([GUESS] 1018), and plan-name must be a hosting plan
// ([GUESS] 1013) of the new owner's.
func (x *opctx) changeOwner(op *node) {
	newOwner := x.s.userByLogin(op.child("new-owner-login").value())
	code, text := 0, ""
	if newOwner == nil || newOwner.kind == kindClient {
		code, text = errOwnerNotFound, "Object owner not found."
	} else if x.v.atLeast(v1630) {
		ips := append(op.all("ipV4-address"), op.all("ipV6-address")...)
		if len(ips) == 0 {
			code, text = errInvalidValue, "Invalid value: at least one IP address must be specified."
		}
		for _, ip := range ips {
			if code == 0 && !slices.Contains(x.s.cfg.IPs, ip.value()) {
				code, text = errIPNotFound, "IP address does not exist."
			}
		}
		if p := op.child("plan-name"); code == 0 && p != nil && !x.s.ownsPlan(newOwner, p.value()) {
			code, text = errNotFound, fmt.Sprintf("Service plan %s does not exist.", p.value())
		}
	}
	x.eachTarget(op.child("filter"), func(fid string, hasFid bool, u *user) {
		if u == nil {
			x.notFound(fid, hasFid)
			return
		}
		if code != 0 {
			x.fail(code, text, fid, hasFid, u.id)
			return
		}
		u.c.ownerID = newOwner.id
		x.ok(fid, hasFid, u.id, nil)
	})
}

// ---- legacy IP pool ----

// ippool_add_ip, ippool_del_ip: the legacy client operator only.
var (
	_ = registerOp(&simOp{name: "ippool_add_ip", pos: 50, schema: ippoolSchema,
		run: func(x *opctx, op *node) { x.ippool(op, true) }})
	_ = registerOp(&simOp{name: "ippool_del_ip", pos: 60, schema: ippoolSchema,
		run: func(x *opctx, op *node) { x.ippool(op, false) }})
)

func ippoolSchema(v version) ([]particle, bool) {
	return []particle{req("client_id", stID), many("ip_address", stString, 1)}, !v.atLeast(v1630)
}

// ippool adds or removes IPs of a client's pool: one result per ip_address,
// carrying it. Unknown or invisible client → 1013 for each address; an IP the
// server does not have → 1018; adding an IP already in the pool → 1007
// [GUESS]; removing one not in the pool → 1018 [GUESS].
func (x *opctx) ippool(op *node, add bool) {
	id, _ := parseIntValue(op.child("client_id").value())
	var target *user
	for _, u := range x.s.users {
		if int64(u.id) == id && visible(x.caller, u) {
			target = u
		}
	}
	for _, ipn := range op.all("ip_address") {
		ip := ipn.value()
		res := func() { x.w.leaf("ip_address", ip) }
		switch {
		case target == nil:
			x.w.errResult(errNotFound, "Object not found.", res)
		case !slices.Contains(x.s.cfg.IPs, ip):
			x.w.errResult(errIPNotFound, "IP address does not exist.", res)
		case add && slices.Contains(target.c.ippool, ip):
			x.w.errResult(errExists, "IP address is already in the client's IP pool.", res)
		case !add && !slices.Contains(target.c.ippool, ip):
			x.w.errResult(errIPNotFound, "IP address is not in the client's IP pool.", res)
		default:
			if add {
				target.c.ippool = append(target.c.ippool, ip)
			} else {
				target.c.ippool = slices.DeleteFunc(target.c.ippool, func(s string) bool { return s == ip })
			}
			x.w.open("result")
			x.w.leaf("status", "ok")
			res()
			x.w.close("result")
		}
	}
}

// ---- legacy cform_buttons_list ----

var _ = registerOp(&simOp{name: "cform_buttons_list", pos: 70, run: (*opctx).buttons,
	schema: func(v version) ([]particle, bool) { return []particle{filterDecl(v)}, !v.atLeast(v1630) }})

// buttons lists a fixed set of custom buttons per client (shape of
// buttonDataType, PROTOCOL.md §7.7); [GUESS] the set itself is invented.
func (x *opctx) buttons(op *node) {
	x.eachTarget(op.child("filter"), func(fid string, hasFid bool, u *user) {
		if u == nil {
			x.notFound(fid, hasFid)
			return
		}
		x.ok(fid, hasFid, u.id, func() {
			for _, b := range []struct{ code, name, group, href string }{
				{"NEW_DOMAIN_BUTTON", "Add New Domain", "Domains", "/domains/create.php?cl_id=%d"},
				{"CLIENT_EDIT_BUTTON", "Edit", "Tools", "/clients/edit.php?cl_id=%d"},
				{"CLIENT_LIMITS_BUTTON", "Limits", "Tools", "/clients/limits.php?cl_id=%d"},
				{"CLIENT_PERMISSIONS_BUTTON", "Permissions", "Tools", "/clients/permissions.php?cl_id=%d"},
				{"CLIENT_IPPOOL_BUTTON", "IP Pool", "Tools", "/clients/ip_pool.php?cl_id=%d"},
			} {
				w := x.w
				w.open("button")
				w.leaf("code", b.code)
				w.leaf("type", "link_button")
				w.leaf("name", b.name)
				w.leaf("name_id", "button__"+strings.ToLower(b.code))
				w.leaf("group_name", b.group)
				w.leaf("group_name_id", "grp__"+strings.ToLower(b.group))
				w.leaf("href", fmt.Sprintf(b.href, u.id))
				w.leaf("enabled", "true")
				w.close("button")
			}
		})
	})
}

// ---- legacy descriptors ----

// The descriptors: the legacy client operator from 1.5.0.0.
var (
	_ = registerOp(&simOp{name: "get-limit-descriptor", pos: 80, schema: descriptorSchema,
		run: func(x *opctx, op *node) { x.descriptor(op, true) }})
	_ = registerOp(&simOp{name: "get-permission-descriptor", pos: 90, schema: descriptorSchema,
		run: func(x *opctx, op *node) { x.descriptor(op, false) }})
)

func descriptorSchema(v version) ([]particle, bool) {
	return []particle{filterDecl(v)}, v.atLeast(v1500) && !v.atLeast(v1630)
}

// descriptor answers get-limit-descriptor / get-permission-descriptor: a
// blank filter gives one server-level result without filter-id/id; a filter
// gives one per client (1013 for unknown values).
func (x *opctx) descriptor(op *node, limits bool) {
	f := op.child("filter")
	if len(f.children) == 0 {
		x.ok("", false, 0, func() { x.writeDescriptor(limits) })
		return
	}
	x.eachTarget(f, func(fid string, hasFid bool, u *user) {
		if u == nil {
			x.notFound(fid, hasFid)
			return
		}
		x.ok(fid, hasFid, u.id, func() { x.writeDescriptor(limits) })
	})
}

func (x *opctx) writeDescriptor(limits bool) {
	w := x.w
	w.open("descriptor")
	if limits {
		for _, n := range limitNames {
			w.open("property")
			w.leaf("name", n)
			w.leaf("type", "int")
			w.leaf("writable-by", "admin")
			w.leaf("label", "limit__"+n)
			w.open("extension")
			w.leaf("shared", "false")
			w.close("extension")
			w.close("property")
		}
	} else {
		for _, n := range permissionNames {
			w.open("property")
			w.leaf("name", n)
			w.leaf("type", "boolean")
			w.leaf("default-value", strconv.FormatBool(permissionDefault))
			w.leaf("writable-by", "admin")
			w.leaf("label", "cl_perm__"+n)
			w.open("extension")
			w.leaf("level", "client")
			w.leaf("level", "domain")
			w.close("extension")
			w.close("property")
		}
	}
	w.close("descriptor")
}

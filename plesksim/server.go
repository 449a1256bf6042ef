package plesksim

import (
	"strconv"
	"strings"
)

// serverGet answers <server><get> with the parts real client libraries ask
// for first (PROTOCOL.md §15: Plesk's PHP library calls key and gen_info
// before its customer tests): key, gen_info and stat, in schema order, each
// only when requested. Shapes follow Plesk's server docs ("Getting Server
// Information", 36908/37002 and the pages below them) [DOC]; the values are
// the simulator's own. Only the administrator may call it [GUESS]:
// resellers and clients get 1006.
func (x *opctx) serverGet(op *node) {
	w := x.w
	if x.caller.kind != kindAdmin {
		w.errResult(errPermission, "Permission denied.", nil)
		return
	}
	w.open("result")
	w.leaf("status", "ok")
	if op.child("key") != nil {
		x.serverKey()
	}
	if op.child("gen_info") != nil {
		w.open("gen_info")
		w.leaf("server_name", "plesksim.example.com")
		w.leaf("server_guid", x.s.users[0].guid) // [INF] one GUID for the server, the admin's
		w.close("gen_info")
	}
	if op.child("stat") != nil {
		x.serverStat()
	}
	w.close("result")
}

// serverKey is keyType: name/value properties [DOC 37037]. The doc sample
// shows plesk_key_id and product_version ("..." after them), product_version
// the major.minor of PleskVersion [INF from the sample's 12.0 / 8.1].
//
// The rest are the properties Plesk's own PHP library reads (api-php-lib
// [CODE]: its ServerTest asserts plesk_key_id and lim_date; its
// KeyLimitChecker, which CustomerTest::testGetAll calls before it lists
// customers, reads can-manage-customers, can-manage-resellers, lim_cl and
// lim_dom). The values describe a licence with no limit the simulator does
// not enforce either:
//   - can-manage-customers, can-manage-resellers "1": KeyLimitChecker takes
//     intval() == 0 as "cannot", so a real panel answers a number here
//     [INF]; "1" for true is a [GUESS] (the licence file itself says
//     "true", which intval would read as 0).
//   - lim_cl, lim_dom "-1": KeyLimitChecker reads -1 as unlimited [CODE].
//   - lim_date: its format is not documented; YYYYMMDD, far ahead, is a
//     [GUESS].
func (x *opctx) serverKey() {
	w := x.w
	w.open("key")
	pv := x.s.cfg.PleskVersion
	if parts := strings.SplitN(pv, ".", 3); len(parts) >= 2 {
		pv = parts[0] + "." + parts[1]
	}
	for _, p := range [][2]string{
		{"plesk_key_id", "plsk.00000000.0000"}, {"product_version", pv},
		{"lim_date", "20991231"},
		{"can-manage-customers", "1"}, {"can-manage-resellers", "1"},
		{"lim_cl", "-1"}, {"lim_dom", "-1"},
	} {
		w.open("property")
		w.leaf("name", p[0])
		w.leaf("value", p[1])
		w.close("property")
	}
	w.close("key")
}

// serverStat is statType: objects, version, other, load_avg, mem, swap,
// diskspace, all required [DOC 36190]. version/plesk_version is
// PleskVersion (REC-1 recorded "11.5.30"). Counts of clients are real,
// everything hosted is 0 (the simulator hosts nothing), machine figures are
// fixed invented values [GUESS]. mem's buffer and cached are [INF] from
// memStatType's sample being cut after shared.
func (x *opctx) serverStat() {
	w := x.w
	clients := 0
	for _, u := range x.s.users {
		if u.kind == kindClient {
			clients++
		}
	}
	group := func(name string, kv ...string) {
		w.open(name)
		for i := 0; i+1 < len(kv); i += 2 {
			w.leaf(kv[i], kv[i+1])
		}
		w.close(name)
	}
	w.open("stat")
	group("objects", "clients", strconv.Itoa(clients), "domains", "0", "active_domains", "0", "mail_boxes", "0",
		"mail_redirects", "0", "mail_groups", "0", "mail_responders", "0", "web_users", "0", "databases", "0",
		"database_users", "0", "problem_clients", "0", "problem_domains", "0")
	group("version", "plesk_name", "psa", "plesk_version", x.s.cfg.PleskVersion, "plesk_os", "Ubuntu",
		"plesk_os_version", "22.04", "plesk_build", "plesksim", "os_release", "plesksim")
	group("other", "cpu", "plesksim virtual CPU", "uptime", "3600", "inside_vz", "false")
	group("load_avg", "l1", "0", "l5", "0", "l15", "0")
	group("mem", "total", "2147483648", "used", "1073741824", "free", "1073741824", "shared", "0", "buffer", "0", "cached", "0")
	group("swap", "total", "1073741824", "used", "0", "free", "1073741824")
	w.open("diskspace")
	group("device", "name", "/dev/sda1", "total", "107374182400", "used", "10737418240", "free", "96636764160")
	w.close("diskspace")
	w.close("stat")
}

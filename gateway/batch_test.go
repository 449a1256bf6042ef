package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/gateway/store/storetest"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

// batchItemBody is one item of a POST /clients/batch body.
func batchItemBody(login, name string) obj {
	return obj{"name": name, "login": login, "password": "Jhtr66fBB", "email": login + "@example.com"}
}

func batchBody(items ...obj) obj { return obj{"clients": items} }

// batchResult is the decoded answer of POST /clients/batch.
type batchResult struct {
	Results []struct {
		Status  int      `json:"status"`
		Client  *obj     `json:"client"`
		Problem *Problem `json:"problem"`
	} `json:"results"`
}

func (h *harness) batch(body obj, want int) (batchResult, response) {
	h.t.Helper()
	r := h.expect(h.do("POST", "/clients/batch", body), want)
	var out batchResult
	if want == http.StatusOK {
		r.json(h.t, &out)
	}
	return out, r
}

// statuses lists the items' statuses.
func (b batchResult) statuses() []int {
	out := make([]int, len(b.Results))
	for i, r := range b.Results {
		out[i] = r.Status
	}
	return out
}

// A batch is ONE packet with its adds and the get that reads them back, in
// both dialects; the answer is per item in request order. The login another
// client (a reseller's) already holds is that item's 409, and that client
// appears nowhere in the answer though the get by login reads it; a login
// twice in one batch is created once.
func TestBatchCreateOnePacketEveryDialect(t *testing.T) {
	for _, c := range []struct{ newest, operator string }{{"1.6.0.0", "client"}, {"1.6.9.1", "customer"}} {
		t.Run(c.newest, func(t *testing.T) {
			h := newHarness(t, withProtocol(c.newest))
			otherID := h.as("res1", resellerPass).createClient("taken")
			h.expect(h.do("GET", "/meta", nil), http.StatusOK) // versions learned: only the batch is counted
			h.sim.ResetStats()

			out, _ := h.batch(batchBody(
				batchItemBody("batch0", "Batch Zero"),
				batchItemBody("taken", "Batch Taken"),
				batchItemBody("batch2", "Batch Two"),
				batchItemBody("batch0", "Batch Zero Again"),
			), http.StatusOK)

			if got := fmt.Sprint(out.statuses()); got != "[201 409 201 409]" {
				t.Fatalf("statuses %s, want [201 409 201 409]", got)
			}
			st := h.sim.Stats()
			if st.Requests != 1 || st.Operations[c.operator+"/add"] != 4 || st.Operations[c.operator+"/get"] != 1 {
				t.Fatalf("packets %d, operations %v; want ONE packet with 4 %s/add and 1 get", st.Requests, st.Operations, c.operator)
			}
			byLogin := map[string]plesksim.Client{}
			for _, cl := range h.sim.Clients() {
				byLogin[cl.Login] = cl
			}
			for i, login := range []string{"batch0", "", "batch2", ""} {
				r := out.Results[i]
				if login == "" {
					if r.Client != nil || r.Problem == nil || r.Problem.Status != http.StatusConflict || r.Problem.PleskErrcode == nil || r.Problem.PleskErrtext == nil {
						t.Fatalf("item %d: %+v, want a 409 problem with Plesk's code and text and no client", i, r)
					}
					continue
				}
				if r.Client == nil || r.Problem != nil {
					t.Fatalf("item %d: %+v", i, r)
				}
				cl := *r.Client
				if cl["login"] != login || int(cl["id"].(float64)) != byLogin[login].ID || cl["email"] != login+"@example.com" {
					t.Fatalf("item %d: client %v, sim has %+v", i, cl, byLogin[login])
				}
			}
			for i, r := range out.Results {
				if r.Client != nil && int((*r.Client)["id"].(float64)) == otherID {
					t.Fatalf("item %d reports the reseller's client %d as created", i, otherID)
				}
			}
			if byLogin["taken"].ID != otherID || byLogin["taken"].Name == "Batch Taken" || byLogin["batch0"].Name != "Batch Zero" {
				t.Fatalf("sim state %+v", byLogin)
			}
		})
	}
}

// Every item is checked before anything is sent: one bad item is a 422
// naming it by JSON pointer, whether the contract (kin-openapi) or the
// create checks find it, and no packet goes to the panel.
func TestBatchInvalidItemSendsNothing(t *testing.T) {
	h := newHarness(t, withProtocol("1.6.9.1"))
	h.expect(h.do("GET", "/meta", nil), http.StatusOK)
	h.sim.ResetStats()
	good := func(i int) obj { return batchItemBody(fmt.Sprintf("valid%d", i), "Valid") }

	noLogin := good(3)
	delete(noLogin, "login")
	twoOwners := good(2)
	twoOwners["owner_id"], twoOwners["owner_login"] = 1, "res1"
	control := good(1)
	control["name"] = "bell\u0007"
	legacyOnly := good(1)
	legacyOnly["template_name"] = "Default Client"
	for _, c := range []struct {
		name   string
		items  []obj
		status int
		field  string
	}{
		{"schema", []obj{good(0), good(1), good(2), noLogin}, http.StatusUnprocessableEntity, "/clients/3/login"},
		{"create checks", []obj{good(0), good(1), twoOwners, good(3)}, http.StatusUnprocessableEntity, "/clients/2/owner_id"},
		{"text XML cannot carry", []obj{good(0), control}, http.StatusUnprocessableEntity, "/clients/1"},
		{"field the version lacks", []obj{good(0), legacyOnly}, http.StatusNotImplemented, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := h.expect(h.do("POST", "/clients/batch", batchBody(c.items...)), c.status).problem(t)
			if c.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != c.field) {
				t.Fatalf("errors %+v, want field %s", p.Errors, c.field)
			}
			if c.field == "" && !strings.Contains(p.Detail, "/clients/1") {
				t.Fatalf("detail %q does not name the item", p.Detail)
			}
		})
	}
	// The body as a whole: no items, more than 100.
	h.expect(h.do("POST", "/clients/batch", batchBody()), http.StatusBadRequest).problem(t)
	many := make([]obj, 101)
	for i := range many {
		many[i] = good(i)
	}
	h.expect(h.do("POST", "/clients/batch", batchBody(many...)), http.StatusBadRequest).problem(t)
	if st := h.sim.Stats(); st.Requests != 0 || len(h.sim.Clients()) != 0 {
		t.Fatalf("refused batches sent %d packets (%v)", st.Requests, st.Operations)
	}
}

// The body limit holds for a batch like any body: 413, nothing sent.
func TestBatchBodyLimit(t *testing.T) {
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.MaxBodyBytes = 1024 })
	items := make([]obj, 20)
	for i := range items {
		items[i] = batchItemBody(fmt.Sprintf("big%d", i), "Big")
	}
	h.expect(h.do("POST", "/clients/batch", batchBody(items...)), http.StatusRequestEntityTooLarge).problem(t)
	if len(h.sim.Clients()) != 0 {
		t.Fatal("an oversize batch created clients")
	}
}

// A keyed batch is replayed whole.
func TestIdempotencyBatchReplay(t *testing.T) {
	h := newHarness(t)
	k := h.with("Idempotency-Key", "batch-1")
	body := batchBody(batchItemBody("rep0", "Rep Zero"), batchItemBody("rep1", "Rep One"))
	_, first := k.batch(body, http.StatusOK)
	_, again := k.batch(body, http.StatusOK)
	if string(first.body) != string(again.body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay differs or unmarked: %v\n%s\n%s", again.Header, first.body, again.body)
	}
	if n, adds := len(h.sim.Clients()), addCount(h.sim); n != 2 || adds != 2 {
		t.Fatalf("clients=%d adds=%d after a replay, want 2 2", n, adds)
	}
	k.expect(k.do("POST", "/clients/batch", batchBody(batchItemBody("rep2", "Rep Two"))), http.StatusUnprocessableEntity).problem(t)
}

// The batch's packet ran at the panel but its answer never came (timeout):
// the retry reads every login and answers each created item 201 from it,
// marked reconciled, sending only what had not taken effect — here the
// item whose login a reseller's client holds, whose add is sent again and
// answers 409 as the first attempt did. Never a second client, never the
// first attempt's own client as a conflict.
func TestIdempotencyBatchTimeoutAfterAddReconciles(t *testing.T) {
	h, g := newHeldHarness(t, "Held Zero", 1, false, time.Second) // the batch's packet only
	otherID := h.as("res1", resellerPass).createClient("heldtaken")
	k := h.with("Idempotency-Key", "batch-slow")
	body := batchBody(batchItemBody("held0", "Held Zero"), batchItemBody("heldtaken", "Held Taken"), batchItemBody("held2", "Held Two"))
	k.expect(k.do("POST", "/clients/batch", body), http.StatusGatewayTimeout)
	<-g.executed
	addsBefore := addCount(h.sim)

	out, r := k.batch(body, http.StatusOK)
	if r.Header.Get("Idempotent-Reconciled") != "true" {
		t.Fatalf("retry after a timeout: headers %v body %s", r.Header, r.body)
	}
	if got := fmt.Sprint(out.statuses()); got != "[201 409 201]" {
		t.Fatalf("statuses %s, want [201 409 201]", got)
	}
	for i, r := range out.Results {
		if r.Client != nil && int((*r.Client)["id"].(float64)) == otherID {
			t.Fatalf("item %d reports the reseller's client as created", i)
		}
	}
	if n, adds := len(h.sim.Clients()), addCount(h.sim)-addsBefore; n != 3 || adds != 1 {
		t.Fatalf("clients=%d, adds on retry=%d; want 3 and 1 (only the item that had not taken effect)", n, adds)
	}
	again := k.expect(k.do("POST", "/clients/batch", body), http.StatusOK)
	if again.Header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(r.body) {
		t.Fatalf("second retry: %v %s", again.Header, again.body)
	}
}

// A timeout where the packet never ran: the retry finds none of the logins
// and sends the batch as new, once.
func TestIdempotencyBatchTimeoutBeforeAddSendsIt(t *testing.T) {
	h, g := newHeldHarness(t, "<add>", 1, true, time.Second)
	k := h.with("Idempotency-Key", "batch-lost")
	body := batchBody(batchItemBody("lost0", "Lost Zero"), batchItemBody("lost1", "Lost One"))
	k.expect(k.do("POST", "/clients/batch", body), http.StatusGatewayTimeout)
	<-g.executed
	out, r := k.batch(body, http.StatusOK)
	if r.Header.Get("Idempotent-Reconciled") != "" || fmt.Sprint(out.statuses()) != "[201 201]" {
		t.Fatalf("retry: headers %v body %s", r.Header, r.body)
	}
	if n := len(h.sim.Clients()); n != 2 {
		t.Fatalf("%d clients", n)
	}
}

// Part of an unknown batch took effect: those items are reconciled from
// what Plesk holds, the rest are sent in one packet.
func TestIdempotencyBatchPartlyDoneReconciles(t *testing.T) {
	h, g := newHeldHarness(t, "<add>", 1, true, time.Second)
	k := h.with("Idempotency-Key", "batch-part")
	body := batchBody(batchItemBody("part0", "Part Zero"), batchItemBody("part1", "Part One"), batchItemBody("part2", "Part Two"))
	k.expect(k.do("POST", "/clients/batch", body), http.StatusGatewayTimeout)
	<-g.executed
	var done obj // what the earlier attempt did before it was lost, as far as the retry can tell
	h.expect(h.do("POST", "/clients", batchItemBody("part1", "Part One")), http.StatusCreated).json(t, &done)
	h.sim.ResetStats()

	out, r := k.batch(body, http.StatusOK)
	if r.Header.Get("Idempotent-Reconciled") != "true" || fmt.Sprint(out.statuses()) != "[201 201 201]" {
		t.Fatalf("retry: headers %v body %s", r.Header, r.body)
	}
	if (*out.Results[1].Client)["id"] != done["id"] {
		t.Fatalf("item 1 is %v, want the client that exists (%v)", *out.Results[1].Client, done["id"])
	}
	if st := h.sim.Stats(); st.Requests != 2 || addCount(h.sim) != 2 || len(h.sim.Clients()) != 3 {
		t.Fatalf("packets %d %v, clients %d: want the read-back and ONE packet with the 2 missing adds", st.Requests, st.Operations, len(h.sim.Clients()))
	}
}

// A replica died with its keyed batch at the panel; its claim lapsed with
// no record. The retry on another replica reads the logins back: 200 with
// the same clients, and no add sent again.
func TestRedisIdempotencyBatchDeadReplicasClaimIsReconciled(t *testing.T) {
	rs := storetest.StartRedis(t)
	a, b := redisReplicas(t, rs)
	body := batchBody(batchItemBody("orph0", "Orphan Zero"), batchItemBody("orph1", "Orphan One"))
	data, _ := json.Marshal(body)

	_, dead, closer, err := store.NewRedis(rs.URL(), store.WithClaimLease(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	owner := upstream.Credentials{Login: "admin", Password: adminPass}.Identity(replicaSecret)
	key := idempotencyStoreKey(owner, "dead-batch")
	req := httptest.NewRequest("POST", "/clients/batch", nil)
	if _, claimed, err := dead.Begin(context.Background(), owner, key, a.gw.idempotencyFingerprint(req, data), time.Hour); err != nil || !claimed {
		t.Fatalf("dead replica's claim: %v %v", claimed, err)
	}
	created, _ := a.batch(body, http.StatusOK) // its packet, at the panel
	_ = closer.Close()
	time.Sleep(300 * time.Millisecond) // the lease lapses

	k := b.with("Idempotency-Key", "dead-batch")
	out, r := k.batch(body, http.StatusOK)
	if r.Header.Get("Idempotent-Reconciled") != "true" || fmt.Sprint(out.statuses()) != "[201 201]" {
		t.Fatalf("retry: headers %v body %s", r.Header, r.body)
	}
	for i := range out.Results {
		if (*out.Results[i].Client)["id"] != (*created.Results[i].Client)["id"] {
			t.Fatalf("item %d: %v, want %v", i, *out.Results[i].Client, *created.Results[i].Client)
		}
	}
	if adds := addCount(a.sim); adds != 2 {
		t.Fatalf("%d adds, want 2", adds)
	}
}

// A client that held an item's login and name before the batch, with
// another email, is not the first attempt's: a retry after a timeout
// answers that item 409, as the first attempt would have, and the other
// client's id appears nowhere in the answer.
func TestIdempotencyBatchTimeoutDoesNotTakeAnotherClientWithTheSameName(t *testing.T) {
	h, g := newHeldHarness(t, "Held Zero", 1, false, time.Second) // the batch's packet only
	pre := batchItemBody("heldsame", "Held Same")
	pre["email"] = "someone.else@example.com"
	var other obj
	h.expect(h.do("POST", "/clients", pre), http.StatusCreated).json(t, &other)
	otherID := int(other["id"].(float64))
	k := h.with("Idempotency-Key", "batch-same-name")
	body := batchBody(batchItemBody("held0", "Held Zero"), batchItemBody("heldsame", "Held Same"))
	k.expect(k.do("POST", "/clients/batch", body), http.StatusGatewayTimeout)
	<-g.executed

	out, r := k.batch(body, http.StatusOK)
	if got := fmt.Sprint(out.statuses()); got != "[201 409]" || r.Header.Get("Idempotent-Reconciled") != "true" {
		t.Fatalf("statuses %s, headers %v; want [201 409], reconciled", got, r.Header)
	}
	for i, res := range out.Results {
		if res.Client != nil && int((*res.Client)["id"].(float64)) == otherID {
			t.Fatalf("item %d reports the client that held the login before as created: %s", i, r.body)
		}
	}
	if len(h.sim.Clients()) != 2 {
		t.Fatalf("%d clients, want 2", len(h.sim.Clients()))
	}
}

// The first attempt's packet reaches the panel after the retry read every
// login back and found none, right before the retry's own packet: each of
// the retry's adds fails (login taken) and is answered from the same
// packet's get with the client that carries every field it sent, each
// client for one item — the first attempt's answer, [201 201 409], marked
// reconciled, with one client per login.
func TestIdempotencyBatchRetryMeetsItsFirstAttemptLate(t *testing.T) {
	h, g := newLateHarness(t, "<add>")
	k := h.with("Idempotency-Key", "batch-late")
	body := batchBody(batchItemBody("late0", "Late Zero"), batchItemBody("late1", "Late One"), batchItemBody("late0", "Late Zero"))
	k.expect(k.do("POST", "/clients/batch", body), http.StatusGatewayTimeout)
	out, r := k.batch(body, http.StatusOK)
	<-g.ran
	if got := fmt.Sprint(out.statuses()); got != "[201 201 409]" || r.Header.Get("Idempotent-Reconciled") != "true" {
		t.Fatalf("statuses %s, headers %v; want [201 201 409], reconciled; body %s", got, r.Header, r.body)
	}
	byLogin := map[string]int{}
	for _, cl := range h.sim.Clients() {
		byLogin[cl.Login] = cl.ID
	}
	if len(byLogin) != 2 || len(h.sim.Clients()) != 2 {
		t.Fatalf("sim has %+v, want one client per login", h.sim.Clients())
	}
	for i, login := range []string{"late0", "late1"} {
		if c := out.Results[i].Client; c == nil || (*c)["login"] != login || int((*c)["id"].(float64)) != byLogin[login] {
			t.Fatalf("item %d: %+v, want %s's client %d", i, out.Results[i], login, byLogin[login])
		}
	}
}

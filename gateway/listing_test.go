package gateway

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/gateway/store/storetest"
	"github.com/pleskgate/pleskgate/plesksim"
	"github.com/pleskgate/pleskgate/translator"
)

// seedClients adds n clients straight to the simulator (100 per packet),
// owned by owner ("" = the administrator), and returns their ids.
func seedClients(t *testing.T, h *harness, n int, prefix, owner string) []int {
	t.Helper()
	vs := h.sim.Versions()
	v := translator.MustParseVersion(vs[len(vs)-1])
	var ids []int
	for done := 0; done < n; {
		var reqs []translator.Request
		for ; len(reqs) < 100 && done < n; done++ {
			c := translator.NewClient{Name: "Seeded " + prefix, Login: fmt.Sprintf("%s%05d", prefix, done), Password: "seed-Pass1"}
			if owner != "" {
				c.OwnerLogin = &owner
			}
			reqs = append(reqs, &translator.AddRequest{Client: c})
		}
		pkt, err := translator.EncodeRequest(v, reqs...)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, h.simSrv.URL+plesksim.AgentPath, strings.NewReader(string(pkt)))
		req.Header.Set("HTTP_AUTH_LOGIN", "admin")
		req.Header.Set("HTTP_AUTH_PASSWD", adminPass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		replies, err := translator.DecodeResponse(v, body, reqs...)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range replies {
			a := r.(*translator.AddReply)
			if err := a.Result.Err(); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, a.Result.ID)
		}
	}
	return ids
}

// listPage is one GET /clients answer.
type listedPage struct {
	ids     []int
	items   []obj
	next    string // the Link target, "" on the last page
	cursor  string
	packets int64 // upstream packets the page cost
}

// page GETs path and counts the upstream packets it cost.
func (h *harness) page(path string) listedPage {
	h.t.Helper()
	before := h.sim.Stats().Requests
	r := h.expect(h.do("GET", path, nil), http.StatusOK)
	var list struct {
		Items      []obj   `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	r.json(h.t, &list)
	p := listedPage{items: list.Items, packets: h.sim.Stats().Requests - before}
	for _, it := range list.Items {
		p.ids = append(p.ids, int(it["id"].(float64)))
	}
	if link := r.Header.Get("Link"); link != "" {
		p.next = strings.TrimSuffix(strings.TrimPrefix(strings.Split(link, ";")[0], "<"), ">")
		if list.NextCursor == nil || !strings.Contains(p.next, "cursor="+*list.NextCursor) {
			h.t.Fatalf("Link %q does not carry next_cursor %v", link, list.NextCursor)
		}
		p.cursor = *list.NextCursor
	} else if list.NextCursor != nil {
		h.t.Fatal("next_cursor without Link")
	}
	return p
}

// walkAll follows Link headers from path to the end.
func (h *harness) walkAll(path string) (pages []listedPage, ids []int) {
	h.t.Helper()
	for path != "" {
		if len(pages) > 100 {
			h.t.Fatal("the walk does not end")
		}
		p := h.page(path)
		pages = append(pages, p)
		ids = append(ids, p.ids...)
		path = p.next
	}
	return pages, ids
}

// warm makes the gateway discover the protocol, so that packet counts below
// hold only the listing's.
func (h *harness) warm() {
	h.t.Helper()
	h.expect(h.do("GET", "/meta", nil), http.StatusOK)
}

func wantSameIDs(t *testing.T, what string, got, want []int) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: listed %d ids, want %d (first difference at %d)", what, len(got), len(want), firstDiff(got, want))
	}
}

func firstDiff(a, b []int) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestListWalkUsesSnapshot(t *testing.T) {
	h := newHarness(t)
	ids := seedClients(t, h, 2500, "walk", "")
	h.warm()
	pages, got := h.walkAll("/clients?limit=1000")
	wantSameIDs(t, "walk", got, ids)
	if len(pages) != 3 || len(pages[0].ids) != 1000 || len(pages[2].ids) != 500 {
		t.Fatalf("%d pages", len(pages))
	}
	// The first page reads the ids and then its records; later pages take
	// their ids from the snapshot.
	for i, want := range []int64{2, 1, 1} {
		if pages[i].packets != want {
			t.Fatalf("page %d cost %d upstream packets, want %d", i+1, pages[i].packets, want)
		}
	}
	if c, _ := decodeCursor(pages[0].cursor); c.snapshot == "" || c.after != ids[999] {
		t.Fatalf("first cursor %+v", c)
	}
	// Items are whole clients, as GET /clients/{id} shows them.
	if it := pages[1].items[0]; it["login"] != "walk01000" || it["name"] != "Seeded walk" {
		t.Fatalf("item %v", it)
	}
}

// In memory, snapshots have a store of their own: a descriptor TTL shorter
// than a walk does not expire them (and walks cannot evict descriptors).
func TestListSnapshotOutlivesDescriptorTTL(t *testing.T) {
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.DescriptorTTL = time.Millisecond })
	seedClients(t, h, 30, "ttl", "")
	h.warm()
	first := h.page("/clients?limit=10")
	time.Sleep(20 * time.Millisecond) // many descriptor TTLs
	if second := h.page(first.next); second.packets != 1 {
		t.Fatalf("second page cost %d packets: the snapshot expired with the descriptor TTL", second.packets)
	}
}

// forgetfulStore is a memory store whose entries can be dropped at will, as
// when a snapshot expires or another replica without Redis serves the page.
type forgetfulStore struct {
	mu sync.Mutex
	m  map[string]store.Entry
}

func (f *forgetfulStore) Get(_ context.Context, key string) (store.Entry, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.m[key]
	return e, ok, nil
}

func (f *forgetfulStore) Set(_ context.Context, key string, e store.Entry, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]store.Entry{}
	}
	f.m[key] = e
	return nil
}

func (f *forgetfulStore) forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m = nil
}

func TestListWalkWithoutSnapshot(t *testing.T) {
	store := &forgetfulStore{}
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.Cache = store })
	ids := seedClients(t, h, 250, "nosnap", "")
	h.warm()
	p1 := h.page("/clients?limit=100")
	store.forget()
	p2 := h.page(p1.next)
	if p2.packets != 2 {
		t.Fatalf("page 2 without its snapshot cost %d packets, want 2 (ids again, then the page)", p2.packets)
	}
	// The re-read took a new snapshot: page 3 uses it.
	p3 := h.page(p2.next)
	if p3.packets != 1 || p3.next != "" {
		t.Fatalf("page 3: %d packets, next %q", p3.packets, p3.next)
	}
	wantSameIDs(t, "walk", slices.Concat(p1.ids, p2.ids, p3.ids), ids)

	// A store that fails does not fail the listing.
	h2 := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.Cache = failingStore{} })
	ids = seedClients(t, h2, 25, "fail", "")
	_, got := h2.walkAll("/clients?limit=10")
	wantSameIDs(t, "walk with a failing store", got, ids)
}

type failingStore struct{}

func (failingStore) Get(context.Context, string) (store.Entry, bool, error) {
	return store.Entry{}, false, fmt.Errorf("store down")
}

func (failingStore) Set(context.Context, string, store.Entry, time.Duration) error {
	return fmt.Errorf("store down")
}

func TestListWalkWhileClientsChange(t *testing.T) {
	h := newHarness(t)
	ids := seedClients(t, h, 30, "chg", "")
	p1 := h.page("/clients?limit=10")
	// Deleted after the first page: skipped, not an error, and the walk goes on.
	gone := ids[12]
	h.expect(h.do("DELETE", fmt.Sprintf("/clients/%d", gone), nil), http.StatusNoContent)
	// Created after the first page: not in this walk (it lists the selection
	// as of its first page) ...
	added := h.createClient("chgnew")
	p2 := h.page(p1.next)
	if len(p2.ids) != 9 || p2.next == "" {
		t.Fatalf("page 2 after a delete: %d items, next %q", len(p2.ids), p2.next)
	}
	_, rest := h.walkAll(p2.next)
	want := slices.DeleteFunc(slices.Clone(ids), func(id int) bool { return id == gone })
	wantSameIDs(t, "walk", slices.Concat(p1.ids, p2.ids, rest), want)
	// ... but in a fresh one.
	_, fresh := h.walkAll("/clients?limit=10")
	wantSameIDs(t, "fresh walk", fresh, append(want, added))

	// Every client of a page deleted: an empty page that still leads on.
	p1 = h.page("/clients?limit=5")
	for _, id := range want[5:10] {
		h.expect(h.do("DELETE", fmt.Sprintf("/clients/%d", id), nil), http.StatusNoContent)
	}
	p2 = h.page(p1.next)
	if len(p2.ids) != 0 || p2.next == "" {
		t.Fatalf("emptied page: %v, next %q", p2.ids, p2.next)
	}
	_, rest = h.walkAll(p2.next)
	wantSameIDs(t, "walk past an emptied page", slices.Concat(p1.ids, rest), slices.Concat(want[:5], want[10:], []int{added}))
}

func TestListCursorIsPerCaller(t *testing.T) {
	h := newHarness(t)
	adminIDs := seedClients(t, h, 20, "adm", "")
	resIDs := seedClients(t, h, 20, "res", "res1")
	h.warm()
	res1 := h.as("res1", resellerPass)
	res1.warm()
	all := slices.Concat(adminIDs, resIDs)

	p1 := h.page("/clients?limit=5")
	wantSameIDs(t, "admin page", p1.ids, all[:5])
	// The reseller replays the administrator's cursor: the snapshot is not
	// its own, so it re-reads with its credentials and sees only its clients.
	p := res1.page(p1.next)
	if p.packets != 2 {
		t.Fatalf("the administrator's snapshot served the reseller (%d packets)", p.packets)
	}
	wantSameIDs(t, "reseller with the admin's cursor", p.ids, resIDs[:5])
	_, rest := res1.walkAll(p.next)
	wantSameIDs(t, "reseller walk", slices.Concat(p.ids, rest), resIDs)

	// And the other way round: nothing of the reseller's walk reaches res2.
	r1 := res1.page("/clients?limit=5")
	res2 := h.as("res2", otherPass)
	if p := res2.page(r1.next); len(p.ids) != 0 || p.next != "" {
		t.Fatalf("res2 with res1's cursor lists %v", p.ids)
	}
	// The same caller with another query does not use the snapshot either.
	if p := h.page(p1.next + "&include=stat"); p.packets != 2 {
		t.Fatalf("another query used the snapshot (%d packets)", p.packets)
	}
}

func TestListFiltersAndIncludeEveryDialect(t *testing.T) {
	for _, newest := range dialectCases {
		t.Run(newest, func(t *testing.T) {
			h := newHarness(t, withProtocol(newest))
			mod := translator.MustParseVersion(newest).AtLeast(translator.MustParseVersion("1.6.0.0"))
			owner, filter := "", ""
			if mod {
				owner, filter = "res1", "&owner_login=res1"
				seedClients(t, h, 7, "other", "")
			}
			ids := seedClients(t, h, 23, "f", owner)
			pages, got := h.walkAll("/clients?limit=10&include=stat&include=limits&include=permissions&include=ippool" + filter)
			wantSameIDs(t, "filtered walk", got, ids)
			if len(pages) != 3 {
				t.Fatalf("%d pages", len(pages))
			}
			for _, p := range pages {
				for _, it := range p.items {
					for _, k := range []string{"stat", "limits", "permissions", "ippool"} {
						if _, ok := it[k]; !ok {
							t.Fatalf("item without %s: %v", k, it)
						}
					}
				}
			}
			// Logins: one packet, whatever the dialect, misses left out.
			h.warm()
			p := h.page("/clients?login=f00003&login=nosuch&login=f00001&login=f00003")
			wantSameIDs(t, "by login", p.ids, []int{ids[1], ids[3]})
			if p.packets != 1 || p.next != "" {
				t.Fatalf("by login: %d packets, next %q", p.packets, p.next)
			}
		})
	}
}

func TestListByIDs(t *testing.T) {
	h := newHarness(t)
	ids := seedClients(t, h, 10, "byid", "")
	h.warm()
	q := fmt.Sprintf("/clients?limit=2&id=%d&id=%d&id=99999&id=%d&id=%d&id=%d", ids[7], ids[1], ids[4], ids[1], ids[2])
	pages, got := h.walkAll(q)
	// The selection is the query's ids, sorted and once each; unknown ids
	// are simply absent (a page may then hold fewer than limit items).
	wantSameIDs(t, "by id", got, []int{ids[1], ids[2], ids[4], ids[7]})
	for i, p := range pages {
		if p.packets != 1 {
			t.Fatalf("page %d: %d packets, want 1", i+1, p.packets)
		}
		if c, _ := decodeCursor(p.cursor); p.cursor != "" && c.snapshot != "" {
			t.Fatal("an id filter took a snapshot")
		}
	}
	if len(pages) != 3 {
		t.Fatalf("%d pages", len(pages))
	}
	// More logins than a page: paged over a snapshot like any selection.
	pages, got = h.walkAll("/clients?limit=2&login=byid00009&login=byid00000&login=nosuch&login=byid00004")
	wantSameIDs(t, "by login, paged", got, []int{ids[0], ids[4], ids[9]})
	if len(pages) != 2 || pages[0].packets != 2 || pages[1].packets != 1 {
		t.Fatalf("by login, paged: %d pages", len(pages))
	}
	one := h.page(fmt.Sprintf("/clients?id=%d", ids[5]))
	wantSameIDs(t, "one id", one.ids, ids[5:6])
	if one.packets != 1 {
		t.Fatalf("one id: %d packets", one.packets)
	}
}

func TestListOldCursor(t *testing.T) {
	h := newHarness(t)
	ids := seedClients(t, h, 12, "old", "")
	old := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("after:%d", ids[3])))
	p := h.page("/clients?limit=5&cursor=" + old)
	wantSameIDs(t, "after an old cursor", p.ids, ids[4:9])
	// It continues with a snapshot of its own.
	if c, err := decodeCursor(p.cursor); err != nil || c.snapshot == "" || c.after != ids[8] {
		t.Fatalf("next cursor %+v %v", c, err)
	}
	_, rest := h.walkAll(p.next)
	wantSameIDs(t, "rest", rest, ids[9:])

	for _, bad := range []string{"snap:xyz:3", "snap:" + strings.Repeat("0", 32), "snap:" + strings.Repeat("0", 32) + ":-1", "after:", "before:3"} {
		c := base64.RawURLEncoding.EncodeToString([]byte(bad))
		h.expect(h.do("GET", "/clients?cursor="+c, nil), http.StatusBadRequest).problem(t)
	}
}

func TestRedisReplicasShareListingSnapshot(t *testing.T) {
	r := storetest.StartRedis(t)
	a, b := redisReplicas(t, r)
	ids := seedClients(t, a, 25, "rep", "")
	p1 := a.page("/clients?limit=10")
	p2 := b.page(p1.next)
	if p2.packets != 1 {
		t.Fatalf("the other replica did not find the snapshot (%d packets)", p2.packets)
	}
	_, rest := a.walkAll(p2.next)
	wantSameIDs(t, "walk across replicas", slices.Concat(p1.ids, p2.ids, rest), ids)
	keys, err := r.Client().Keys(context.Background(), "*listing*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("listing keys %v %v", keys, err)
	}
	if ttl := r.Client().PTTL(context.Background(), keys[0]).Val(); ttl <= 0 || ttl > snapshotTTL {
		t.Fatalf("snapshot TTL %v", ttl)
	}
}

func TestSnapshotIDsEncoding(t *testing.T) {
	for _, ids := range [][]int{nil, {1}, {1, 2, 3, 1000, 1 << 31, 1<<31 + 1}} {
		got, err := decodeIDs(encodeIDs(ids))
		if err != nil || !slices.Equal(got, ids) && len(ids) > 0 {
			t.Fatalf("%v → %v %v", ids, got, err)
		}
	}
	ids := []int{2, 3, 5, 8, 13, 21}
	for after := 0; after <= 22; after++ {
		for limit := 1; limit <= 7; limit++ {
			want, rest := pageOf(ids, after, limit)
			got, more, err := decodeIDsPage(encodeIDs(ids), after, limit)
			if err != nil || !slices.Equal(got, want) || more != (len(rest) > 0) {
				t.Fatalf("after %d limit %d: %v %v %v, want %v %v", after, limit, got, more, err, want, len(rest) > 0)
			}
		}
	}
	good := encodeIDs([]int{3, 5})
	for _, bad := range [][]byte{nil, {2}, {1}, {1, 3, 1}, append(slices.Clone(good), 0), good[:len(good)-1], {1, 2, 1, 0}} {
		if _, err := decodeIDs(bad); err == nil {
			t.Fatalf("%v decoded", bad)
		}
		if _, _, err := decodeIDsPage(bad, 0, 1); err == nil {
			t.Fatalf("%v decoded as a page", bad)
		}
	}
}

// Before: a reseller's 22,000 × GET /clients?limit=1 left a snapshot each in
// Redis (18,646 keys, 32 MB: maxmemory, noeviction), and other callers'
// writes failed. After: each caller holds at most SnapshotsPerCaller across
// replicas, its oldest dropped for a new one; another caller's walk keeps its
// snapshot, and a list that fits in one page takes none.
func TestRedisListingSnapshotsBoundedPerCaller(t *testing.T) {
	r := storetest.StartRedis(t)
	a, b := redisReplicas(t, r)
	for _, h := range []*harness{a, b} {
		h.gw.snapshots = store.NewSnapshots(h.gw.cfg.Cache, 5)
	}
	seedClients(t, a, 3, "snap", "res1")
	ctx := context.Background()
	listingKeys := func() int { return len(r.Client().Keys(ctx, "pleskgate:listing:*").Val()) }

	walk := a.page("/clients?limit=1") // the administrator's walk
	res := []*harness{a.as("res1", resellerPass), b.as("res1", resellerPass)}
	var last listedPage
	for i := range 40 {
		last = res[i%2].page("/clients?limit=1")
	}
	if n := listingKeys(); n != 1+5 {
		t.Errorf("%d snapshots in Redis after 40 first pages of one caller, want 1 + 5", n)
	}
	if p := a.page(walk.next); p.packets != 1 {
		t.Errorf("the administrator's next page cost %d packets, want 1 (its snapshot was dropped)", p.packets)
	}
	if p := b.as("res1", resellerPass).page(last.next); p.packets != 1 {
		t.Errorf("the reseller's latest walk cost %d packets, want 1", p.packets)
	}
	before := listingKeys()
	if p := a.page("/clients?limit=100"); p.next != "" {
		t.Fatal("a list of one page has a next page")
	}
	if n := listingKeys(); n != before {
		t.Errorf("a list that fits in one page took a snapshot (%d → %d keys)", before, n)
	}
}

package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/translator"
)

// Paging of GET /clients. Plesk has no paging and answers a get with every
// match at once, so the gateway pages in two steps:
//
//  1. the selection's ids: a get with the caller's filter and an empty
//     <dataset/>, which Plesk answers with one result per client carrying its
//     id and no data blocks — cheap to send and to decode;
//  2. the page's records: a get filtered by exactly the page's ids, with the
//     requested datasets.
//
// The first page keeps the sorted id list in the cache store as a snapshot
// (under a random id, scoped to the caller's identity and the query); the
// cursor carries the snapshot id and the last id served, so a later page
// costs one packet of `limit` ids whatever the selection's size. When the
// snapshot is gone (expired, evicted, another replica without Redis, a
// restart, another caller), the ids are read again (step 1) and a new
// snapshot is taken: correctness never depends on the snapshot.

// snapshotTTL is how long a walk's id list is kept. The in-memory store may
// drop it sooner (its own TTL and LRU bound); then the next page re-reads.
const snapshotTTL = 5 * time.Minute

// listCursor is a paging position: the last id served and, for walks over a
// non-id selection, the snapshot it came from.
type listCursor struct {
	snapshot string // 32 hex digits, or "" for the plain "after:N" form
	after    int
}

// Cursor forms (base64url, unpadded): "after:N" (issued by earlier releases
// and still for id filters, whose selection is the query itself) and
// "snap:<snapshot id>:N".
func encodeCursor(c listCursor) string {
	s := "after:" + strconv.Itoa(c.after)
	if c.snapshot != "" {
		s = "snap:" + c.snapshot + ":" + strconv.Itoa(c.after)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeCursor(s string) (listCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		var c listCursor
		rest, ok := strings.CutPrefix(string(raw), "after:")
		if !ok {
			if rest, ok = strings.CutPrefix(string(raw), "snap:"); ok {
				c.snapshot, rest, ok = strings.Cut(rest, ":")
				ok = ok && validSnapshotID(c.snapshot)
			}
		}
		if ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 {
				c.after = n
				return c, nil
			}
		}
	}
	return listCursor{}, errBadRequest("the cursor is not one this gateway issued", FieldError{Field: "query.cursor", Message: "invalid cursor"})
}

func newSnapshotID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func validSnapshotID(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// listPage is one page of GET /clients: its clients as the translator
// decoded them (in id order, each with its general info), what they
// include, and the next cursor (nil on the last page).
type listPage struct {
	recs []translator.GetResult
	inc  include
	next *listCursor
}

// listClients computes one page of the selection f, after cur (nil: the
// first page), of at most limit clients in id order.
func (s *Server) listClients(ctx context.Context, f translator.Filter, in include, limit int, cur *listCursor) (listPage, error) {
	after := 0
	if cur != nil {
		after = cur.after
	}
	if ids, ok := idSelection(f); ok {
		// The selection is the query's ids: no snapshot, plain cursors.
		page, rest := pageOf(ids, after, limit)
		lp, err := s.pageRecords(ctx, page, in)
		if err == nil && len(rest) > 0 {
			lp.next = &listCursor{after: page[len(page)-1]}
		}
		return lp, err
	}
	if cur == nil && uniqueKind(f.Kind) && len(f.Values) <= limit {
		// At most one client per value, and no more values than a page:
		// one packet with the datasets, as for a single read.
		return s.smallSelection(ctx, f, in, limit)
	}
	var page []int
	more := false
	snap := ""
	if cur != nil && cur.snapshot != "" {
		if got, m, ok := s.loadSnapshotPage(ctx, cur.snapshot, f, in, after, limit); ok {
			page, more, snap = got, m, cur.snapshot
		}
	}
	if snap == "" {
		ids, err := s.selectionIDs(ctx, f)
		if err != nil {
			return listPage{}, err
		}
		var rest []int
		page, rest = pageOf(ids, after, limit)
		if more = len(rest) > 0; more {
			// Later pages only need the ids after this one.
			snap = s.storeSnapshot(ctx, rest, f, in)
		}
	}
	lp, err := s.pageRecords(ctx, page, in)
	if err == nil && more {
		lp.next = &listCursor{snapshot: snap, after: page[len(page)-1]}
	}
	return lp, err
}

// smallSelection answers a first page whose selection is bounded by the
// query (login, guid, external id) in one get with the datasets.
func (s *Server) smallSelection(ctx context.Context, f translator.Filter, in include, limit int) (listPage, error) {
	recs, _, _, err := s.readResults(ctx, f, in)
	if err != nil {
		return listPage{}, err
	}
	// Two values can name one client (login=a&login=a): list it once.
	recs = slices.CompactFunc(recs, func(a, b translator.GetResult) bool { return a.Result.ID == b.Result.ID })
	if len(recs) <= limit {
		return listPage{recs: recs, inc: in}, nil
	}
	// More matches than values: the kind was not unique after all. Page
	// over what was read; later pages come from the snapshot.
	ids := make([]int, len(recs))
	for i, r := range recs {
		ids[i] = r.Result.ID
	}
	snap := s.storeSnapshot(ctx, ids[limit:], f, in)
	return listPage{recs: recs[:limit], inc: in, next: &listCursor{snapshot: snap, after: ids[limit-1]}}, nil
}

// uniqueKind reports whether a filter value selects at most one client.
// External ids are unique per Plesk's 1007 on duplicates [GUESS]; if not,
// smallSelection still pages correctly.
func uniqueKind(k translator.FilterKind) bool {
	return k == translator.FilterLogin || k == translator.FilterGUID || k == translator.FilterExternalID
}

// idSelection returns the sorted, distinct ids of an id filter.
func idSelection(f translator.Filter) ([]int, bool) {
	if f.Kind != translator.FilterID || f.IsBlank() {
		return nil, false
	}
	ids := make([]int, 0, len(f.Values))
	for _, v := range f.Values {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			return nil, false // let the translator refuse it as usual
		}
		ids = append(ids, n)
	}
	slices.Sort(ids)
	return slices.Compact(ids), true
}

// pageOf returns the next limit ids after `after` in sorted ids, and the
// ids that follow them.
func pageOf(ids []int, after, limit int) (page, rest []int) {
	start, _ := slices.BinarySearch(ids, after+1)
	end := min(start+limit, len(ids))
	return ids[start:end], ids[end:]
}

// selectionIDs reads the sorted, distinct ids f selects (step 1): a get with
// an empty dataset. Filter values that match nothing (1013) select nothing.
//
// The answer holds only status and id per client (≈ 55 bytes), which the
// translator decodes one result at a time (EachGetResult): only the ids
// are kept, not a result per client.
func (s *Server) selectionIDs(ctx context.Context, f translator.Filter) ([]int, error) {
	req := &translator.GetRequest{Filter: f}
	v, err := s.versionFor(ctx, req.Op().Name())
	if err != nil {
		return nil, err
	}
	var ids []int
	var failed []translator.Result
	err = s.upstream.CallGet(ctx, credentialsFrom(ctx), v, req, func(r translator.GetResult) error {
		if r.Result.OK() {
			ids = append(ids, r.Result.ID)
		} else {
			failed = append(failed, r.Result)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, r := range failed {
		if r.ErrCode != translator.CodeObjectNotFound {
			return nil, r.Err()
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// pageRecords reads the clients with these ids (step 2). A client deleted
// since its id was read answers 1013 and is skipped.
//
// When one packet carries everything the page includes, its results are
// decoded one at a time (translator.EachGetResult) and only the ok ones
// kept: a failed result, or a malformed answer, is the error as in
// readResults.
func (s *Server) pageRecords(ctx context.Context, ids []int, in include) (listPage, error) {
	if len(ids) == 0 {
		return listPage{inc: in}, nil
	}
	req := &translator.GetRequest{Filter: translator.ByID(ids...), GenInfo: true, Stat: in.Stat}
	v, err := s.versionFor(ctx, req.Op().Name())
	if err != nil {
		return listPage{}, err
	}
	if in.legacy() {
		legacyV, err := s.versionFor(ctx, in.legacyOps()...)
		if err != nil {
			return listPage{}, err
		}
		if legacyV.Compare(v) != 0 {
			// Two packets merged by id: read them as any client read.
			recs, _, _, err := s.readResults(ctx, req.Filter, in)
			return listPage{recs: recs, inc: in}, err
		}
		req.Limits, req.Permissions, req.IPPool = in.Limits, in.Permissions, in.IPPool
	}
	var recs []translator.GetResult
	var failed []translator.Result
	err = s.upstream.CallGet(ctx, credentialsFrom(ctx), v, req, func(r translator.GetResult) error {
		if r.Result.OK() {
			recs = append(recs, r)
		} else {
			failed = append(failed, r.Result)
		}
		return nil
	})
	if err != nil {
		return listPage{}, err
	}
	for _, r := range failed {
		if r.ErrCode != translator.CodeObjectNotFound {
			return listPage{}, r.Err()
		}
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].Result.ID <= recs[i-1].Result.ID {
			// Not in id order (Plesk answers in the filter's order, which
			// is ascending): sort, as readResults does.
			return listPage{recs: sortedResults(recs), inc: in}, nil
		}
	}
	return listPage{recs: recs, inc: in}, nil
}

// sortedResults sorts recs by id, in place.
func sortedResults(recs []translator.GetResult) []translator.GetResult {
	sort.Slice(recs, func(i, j int) bool { return recs[i].Result.ID < recs[j].Result.ID })
	return recs
}

// snapshotKey names a walk's snapshot in the cache store. It hashes the
// caller's identity, the upstream and the query with the snapshot id, so a
// cursor presented by another caller (or with another query) finds nothing
// and that request re-reads the ids with its own credentials.
func (s *Server) snapshotKey(ctx context.Context, snap string, f translator.Filter, in include) string {
	h := sha256.New()
	field := func(v string) {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
		h.Write([]byte(v))
	}
	field(identityFrom(ctx))
	field(s.upstreamID)
	field(string(f.Kind))
	field(strconv.Itoa(len(f.Values)))
	for _, v := range f.Values {
		field(v)
	}
	field(strconv.FormatBool(in.Stat) + strconv.FormatBool(in.Limits) + strconv.FormatBool(in.Permissions) + strconv.FormatBool(in.IPPool))
	field(snap)
	return "pleskgate:listing:" + hex.EncodeToString(h.Sum(nil)[:20])
}

// storeSnapshot keeps ids under a new snapshot id and returns it. A store
// failure is not an error: the next page finds no snapshot and re-reads.
// Each caller holds at most Config.SnapshotsPerCaller; a new one beyond it
// drops the caller's oldest (store.Snapshots).
func (s *Server) storeSnapshot(ctx context.Context, ids []int, f translator.Filter, in include) string {
	snap := newSnapshotID()
	now := time.Now()
	e := store.Entry{Body: encodeIDs(ids), StoredAt: now, Expires: now.Add(snapshotTTL)}
	_ = s.snapshots.Put(ctx, identityFrom(ctx), s.snapshotKey(ctx, snap, f, in), e, snapshotTTL)
	return snap
}

// loadSnapshotPage returns the next limit ids after `after` in a snapshot,
// and whether more follow, if the store still has it. Only the page's ids
// are kept (a snapshot of 10,000 ids is not decoded into a slice).
func (s *Server) loadSnapshotPage(ctx context.Context, snap string, f translator.Filter, in include, after, limit int) (page []int, more, ok bool) {
	e, found, err := s.snapshots.Get(ctx, s.snapshotKey(ctx, snap, f, in))
	if err != nil || !found || time.Now().After(e.Expires) {
		return nil, false, false
	}
	page, more, err = decodeIDsPage(e.Body, after, limit)
	return page, more, err == nil
}

// Snapshot body: a format byte, the count, then the ascending ids as uvarint
// deltas (10,000 consecutive ids take ≈ 10 KB).
const idsFormat = 1

func encodeIDs(ids []int) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+2*len(ids))
	b = append(b, idsFormat)
	b = binary.AppendUvarint(b, uint64(len(ids)))
	prev := 0
	for _, id := range ids {
		b = binary.AppendUvarint(b, uint64(id-prev))
		prev = id
	}
	return b
}

var errBadSnapshot = errors.New("malformed listing snapshot")

func decodeIDs(b []byte) ([]int, error) {
	var ids []int
	err := walkIDs(b, func(n uint64) { ids = make([]int, 0, n) }, func(id int) { ids = append(ids, id) })
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// decodeIDsPage is pageOf(decodeIDs(b), after, limit), holding only the
// page: its ids, and whether ids follow it.
func decodeIDsPage(b []byte, after, limit int) (page []int, more bool, err error) {
	err = walkIDs(b, func(uint64) {}, func(id int) {
		switch {
		case id <= after:
		case len(page) < limit:
			if page == nil {
				page = make([]int, 0, limit)
			}
			page = append(page, id)
		default:
			more = true
		}
	})
	if err != nil {
		return nil, false, err
	}
	return page, more, nil
}

// walkIDs checks a snapshot body and calls count with the number of ids,
// then id with each, ascending.
func walkIDs(b []byte, count func(n uint64), id func(int)) error {
	if len(b) == 0 || b[0] != idsFormat {
		return errBadSnapshot
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) { // every id takes at least one byte
		return errBadSnapshot
	}
	b = b[k:]
	count(n)
	prev := 0
	for range n {
		d, k := binary.Uvarint(b)
		if k <= 0 || d == 0 || d > 1<<40 {
			return errBadSnapshot
		}
		b = b[k:]
		prev += int(d)
		id(prev)
	}
	if len(b) != 0 {
		return errBadSnapshot
	}
	return nil
}

package gateway

import (
	"context"
	"sort"
	"strconv"

	"github.com/pleskgate/pleskgate/translator"
)

// This file is the gateway's use of the XML API: choosing versions, sending
// packets, and reading clients. Handlers (one file per resource) only map JSON.

// versions returns the protocol versions to choose from for this caller.
func (s *Server) versions(ctx context.Context) ([]translator.Version, error) {
	return s.cfg.Protocol.Versions(ctx, s.askProtos(ctx))
}

func (s *Server) askProtos(ctx context.Context) func(context.Context) ([]translator.Version, error) {
	creds := credentialsFrom(ctx)
	return func(ctx context.Context) ([]translator.Version, error) {
		return s.upstream.Protos(ctx, creds)
	}
}

// sendAlone sends req alone, at the version rt's operations choose, and
// returns its reply as R: a route that sends one read.
func sendAlone[R translator.Reply](ctx context.Context, s *Server, rt *route, req translator.Request) (R, error) {
	var zero R
	v, err := s.versionFor(ctx, rt.ops...)
	if err != nil {
		return zero, err
	}
	replies, err := s.send(ctx, v, req)
	if err != nil {
		return zero, err
	}
	return translator.ReplyAs[R](replies[0])
}

// versionFor picks the newest available version that has every one of ops,
// so they can travel in one packet.
func (s *Server) versionFor(ctx context.Context, ops ...translator.Operation) (translator.Version, error) {
	newest, err := s.cfg.Protocol.NewestFirst(ctx, s.askProtos(ctx))
	if err != nil {
		return translator.Version{}, err
	}
	for _, v := range newest {
		if supportsAll(v, ops) {
			return v, s.legacy.check(ctx, v, ops)
		}
	}
	vs := s.cfg.Protocol.Known() // the server's order, for the error
	for _, op := range ops {
		if _, err := s.cfg.Protocol.pick(vs, op); err != nil {
			return translator.Version{}, err
		}
	}
	// Each op alone is available but never together: report the first pair.
	return translator.Version{}, &unsupportedOperationError{op: ops[len(ops)-1], tried: vs, mode: s.cfg.Protocol.Mode()}
}

func supportsAll(v translator.Version, ops []translator.Operation) bool {
	for _, op := range ops {
		if !v.Supports(op) {
			return false
		}
	}
	return true
}

// send sends reqs in one packet at version v.
func (s *Server) send(ctx context.Context, v translator.Version, reqs ...translator.Request) ([]translator.Reply, error) {
	if err := s.legacy.checkRequests(ctx, v, reqs); err != nil {
		return nil, err
	}
	ctx = markWrites(ctx, reqs) // a keyed POST learns when its write is on the wire
	replies, err := s.upstream.Call(ctx, credentialsFrom(ctx), v, reqs...)
	if err != nil {
		return nil, s.legacy.learn(ctx, v, reqs, err)
	}
	if err := s.legacy.answered(ctx, v, reqs, replies); err != nil {
		return nil, err
	}
	return replies, nil
}

// include says which optional blocks a client read carries.
type include struct{ Stat, Limits, Permissions, IPPool bool }

func (in include) legacy() bool { return in.Limits || in.Permissions || in.IPPool }

func (in include) legacyOps() []translator.Operation {
	var ops []translator.Operation
	if in.Limits {
		ops = append(ops, translator.OpGetLimits)
	}
	if in.Permissions {
		ops = append(ops, translator.OpGetPermissions)
	}
	if in.IPPool {
		ops = append(ops, translator.OpGetIPPool)
	}
	return ops
}

// clientRecord is one client as read from Plesk.
type clientRecord struct {
	ID          int
	Info        translator.ClientInfo
	Stat        *translator.Stat
	Limits      *translator.Limits
	Permissions []translator.Permission
	IPPool      []translator.PoolIP
	inc         include
	version     translator.Version
}

// readClients reads the clients f selects (readResults), each copied into
// a clientRecord. Filter values that match nothing are returned as misses
// (1013 results), other per-result errors as the error.
func (s *Server) readClients(ctx context.Context, f translator.Filter, in include) (recs []clientRecord, misses []translator.Result, err error) {
	results, v, misses, err := s.readResults(ctx, f, in)
	if err != nil {
		return nil, nil, err
	}
	recs = make([]clientRecord, len(results))
	for i := range results {
		recs[i] = recordOf(&results[i], in, v)
	}
	return recs, misses, nil
}

// recordOf copies one client's result into a clientRecord.
func recordOf(r *translator.GetResult, in include, v translator.Version) clientRecord {
	rec := clientRecord{ID: r.Result.ID, Stat: r.Stat, Limits: r.Limits, Permissions: r.Permissions, IPPool: r.IPPool, inc: in, version: v}
	if r.Client != nil {
		rec.Info = *r.Client
	}
	return rec
}

// readResults reads the clients f selects: their ok results in id order, as
// the translator decoded them (no copy: a page of the listing is written
// from these), and the version of the packet. general info and stat travel
// in the newest version that has get; limits, permissions and IP pool exist
// only in the legacy dialect, so against a modern server they are read in a
// second, legacy packet and merged by id. Filter values that match nothing
// are returned as misses (1013 results), other per-result errors as the
// error.
func (s *Server) readResults(ctx context.Context, f translator.Filter, in include) (results []translator.GetResult, v translator.Version, misses []translator.Result, err error) {
	main := &translator.GetRequest{Filter: f, GenInfo: true, Stat: in.Stat}
	v, err = s.versionFor(ctx, main.Op().Name())
	if err != nil {
		return nil, v, nil, err
	}
	var legacyV translator.Version
	if in.legacy() {
		if legacyV, err = s.versionFor(ctx, in.legacyOps()...); err != nil {
			return nil, v, nil, err
		}
	}
	sameVersion := in.legacy() && legacyV.Compare(v) == 0
	if sameVersion {
		main.Limits, main.Permissions, main.IPPool = in.Limits, in.Permissions, in.IPPool
	}
	replies, err := s.send(ctx, v, main)
	if err != nil {
		return nil, v, nil, err
	}
	// The ok results are compacted in place: results[:n] never overtakes
	// the result being read.
	got, err := translator.ReplyAs[*translator.GetReply](replies[0])
	if err != nil {
		return nil, v, nil, err
	}
	all := got.Results
	results = all[:0]
	for i := range all {
		r := &all[i]
		if !r.Result.OK() {
			if r.Result.ErrCode == translator.CodeObjectNotFound {
				misses = append(misses, r.Result)
				continue
			}
			return nil, v, nil, r.Result.Err()
		}
		if r.Client == nil {
			// Every record has its general info, if empty.
			r.Client = &translator.ClientInfo{}
		}
		results = append(results, *r)
	}
	clear(all[len(results):]) // drop what the skipped results referenced
	if in.legacy() && !sameVersion && len(results) > 0 {
		// Select exactly the clients the first packet found, by id (an id
		// filter exists in every version).
		byID := make(map[int]int, len(results))
		ids := make([]int, len(results))
		for i, r := range results {
			ids[i] = r.Result.ID
			byID[r.Result.ID] = i
		}
		extra := &translator.GetRequest{Filter: translator.ByID(ids...), Limits: in.Limits, Permissions: in.Permissions, IPPool: in.IPPool}
		replies, err := s.send(ctx, legacyV, extra)
		if err != nil {
			return nil, v, nil, err
		}
		got, err := translator.ReplyAs[*translator.GetReply](replies[0])
		if err != nil {
			return nil, v, nil, err
		}
		for _, r := range got.Results {
			i, ok := byID[r.Result.ID]
			if !r.Result.OK() || !ok {
				// Deleted between the two packets: it keeps its general info only.
				continue
			}
			results[i].Limits, results[i].Permissions, results[i].IPPool = r.Limits, r.Permissions, r.IPPool
		}
	}
	sort.Slice(results, func(i, j int) bool { return results[i].Result.ID < results[j].Result.ID })
	return results, v, misses, nil
}

// readClient reads one client by id; 404 when Plesk does not know it (or the
// caller may not see it).
func (s *Server) readClient(ctx context.Context, id int64, in include) (clientRecord, error) {
	recs, misses, err := s.readClients(ctx, translator.ByID(int(id)), in)
	if err != nil {
		return clientRecord{}, err
	}
	for _, r := range recs {
		if int64(r.ID) == id {
			return r, nil
		}
	}
	if len(misses) > 0 {
		return clientRecord{}, misses[0].Err()
	}
	return clientRecord{}, errNotFound("no client with id " + strconv.FormatInt(id, 10))
}

// first returns the first of a reply's results with its error, and 404
// when Plesk returned none (the filter, a client's id, matched nothing).
func first[T interface{ Outcome() translator.Result }](rs []T) (T, error) {
	if len(rs) == 0 {
		var zero T
		return zero, errNotFound("client not found")
	}
	return rs[0], rs[0].Outcome().Err()
}

// firstResultOf is first of r, a *translator.ResultsReply (set, del, …).
func firstResultOf(r translator.Reply) (translator.Result, error) {
	rep, err := translator.ReplyAs[*translator.ResultsReply](r)
	if err != nil {
		return translator.Result{}, err
	}
	return first(rep.Results)
}

// firstGet is first of r, a *translator.GetReply.
func firstGet(r translator.Reply) (translator.GetResult, error) {
	rep, err := translator.ReplyAs[*translator.GetReply](r)
	if err != nil {
		return translator.GetResult{}, err
	}
	return first(rep.Results)
}

func errMissingBlock(name string) error {
	return &Error{Status: 502, Slug: "bad-upstream-answer", Title: "Malformed answer from Plesk", Detail: "Plesk's answer lacks the " + name + " block"}
}

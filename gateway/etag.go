package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/pleskgate/pleskgate/translator"
	"go.uber.org/zap"
)

// clientInfoETag is a client's validator computed from its fields directly
// (docs/BENCHMARKS.md §5.1), in etagOf's format ("…24 hex digits…"): no
// JSON encoding of the record, and no heap allocation but the result.
// Every field of translator.ClientInfo and the id go in, each with its length, so the value changes whenever any of them does and
// two different records cannot run together into one input
// (TestClientInfoETagCoversEveryField walks the struct to keep it so).
func clientInfoETag(id int, in *translator.ClientInfo) string {
	var stack [512]byte
	b := stack[:0]
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, 0)
	for _, s := range [...]string{
		in.CreatedDate, in.Company, in.Name, in.Login,
		in.Phone, in.Fax, in.Email, in.Address, in.City, in.State, in.PostalCode, in.Country, in.Locale,
		in.GUID, in.OwnerLogin, in.VendorGUID, in.ExternalID, in.Description,
	} {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	b = strconv.AppendInt(b, int64(in.Status), 10)
	b = append(b, 0)
	if in.OwnerID != nil {
		b = append(b, 'o')
		b = strconv.AppendInt(b, int64(*in.OwnerID), 10)
	}
	sum := sha256.Sum256(b)
	var out [26]byte
	out[0], out[25] = '"', '"'
	hex.Encode(out[1:25], sum[:12])
	return string(out[:])
}

// conditional runs change, a write to client id, under If-Match (DESIGN.md
// §7); without If-Match it simply runs change on ctx.
//
// With If-Match: the client is read and its ETag compared first, without
// the lock, so Plesk has let the caller see the client before the caller
// may hold it (a stranger's 404 never waits for or holds the lock); a
// mismatch is 412 at once. Then the client's lock is taken (in Redis when
// the stores are there, so across replicas), the client is read again and
// compared under it: the lock is per client, not per caller, so of two
// changes sent with one ETag by any callers, the second reads the first's
// result and gets 412.
//
// The change runs detached from the caller's cancellation, bounded like a
// detached keyed write (twice the upstream timeout), and the lock is
// released only when it returned: a caller that hangs up while its change is
// at the panel keeps the client locked until the panel answered. Right
// before the change the lock is confirmed (renewed); one that lapsed is 503
// client-busy and nothing is sent.
func (s *Server) conditional(ctx context.Context, id int64, ifMatch *string, change func(ctx context.Context) error) error {
	if ifMatch == nil {
		return change(ctx)
	}
	if err := s.matchIfMatch(ctx, id, *ifMatch); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, s.cfg.ClientLockWait)
	held, err := s.cfg.Locks.Lock(wctx, "client:"+s.upstreamID+":"+strconv.FormatInt(id, 10))
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("client lock", zap.Int64("client_id", id), zap.Error(err))
		return errClientBusy("another conditional change of this client is still running (or the lock store is unreachable); nothing was sent: retry")
	}
	defer held.Unlock()
	if err := s.matchIfMatch(ctx, id, *ifMatch); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err // the caller left before the change: send nothing
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*s.upstreamTimeout())
	defer cancel()
	if err := held.Confirm(dctx); err != nil {
		s.log.Warn("client lock lost before the change was sent", zap.Int64("client_id", id), zap.Error(err))
		return errClientBusy("the lock on this client lapsed before the change could be sent (the lock store was slow or unreachable); nothing was sent: retry")
	}
	return change(dctx)
}

// matchIfMatch reads client id as the caller and compares its ETag with ifMatch.
func (s *Server) matchIfMatch(ctx context.Context, id int64, ifMatch string) error {
	rec, err := s.readClient(ctx, id, include{})
	if err != nil {
		return err
	}
	if !etagMatches(ifMatch, clientETag(rec)) {
		return errPreconditionFailed("the client changed since it was read (If-Match does not match its ETag)")
	}
	return nil
}

func errClientBusy(detail string) error {
	return &Error{Status: http.StatusServiceUnavailable, Slug: "client-busy", Title: "Client busy", Header: http.Header{"Retry-After": {"1"}}, Detail: detail}
}

// etagMatches implements If-Match / If-None-Match list matching (strong comparison).
func etagMatches(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimSpace(part)
		if part == "*" || part == etag {
			return true
		}
	}
	return false
}

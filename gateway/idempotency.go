package gateway

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/translator"
)

// Idempotency-Key on POST (draft-ietf-httpapi-idempotency-key-header,
// DESIGN.md §5): the same key with the same request replays the stored
// response; the same key with a different request is 422; the same key
// while the first request is still running is 409. Keys are scoped to the
// caller: its identity, or in service mode its API key's name.
//
// A record is kept only for a request that executed, that is one that put a
// write packet on the wire (idemRun). A request refused before that (401,
// 403, 400, 413, 415, 422, 429, 503 busy, a read that found nothing) frees
// its key, so a corrected retry with the same key runs. Once the write is on
// the wire the request is detached from the caller: it is finished, bounded
// by the upstream timeout, and its true outcome is stored even if the caller
// went away. A write with no answer (upstream timeout, broken answer) is
// stored as Unknown; the next request with the key and body reconciles it
// (reconcile) by reading back whether the write took effect, and sends it
// again only when it did not.

// replayedHeaders are the response headers a replay repeats.
var replayedHeaders = []string{"Content-Type", "Location", "ETag", headerReconciled}

// headerReconciled marks an answer built by reading back the effect of an
// earlier attempt whose outcome was unknown (openapi.yaml).
const headerReconciled = "Idempotent-Reconciled"

// headerRecorded: false marks an answer whose outcome the gateway could not
// store (README): the key is left as an unknown outcome, which a retry
// with the same key and body reconciles.
const headerRecorded = "Idempotent-Recorded"

// recordingWriter holds a response until its record is stored (flush), so
// that the answer can say whether it was.
type recordingWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.buf.Write(b)
}

// flush sends the held response.
func (w *recordingWriter) flush() error {
	if w.status == 0 {
		return nil
	}
	w.ResponseWriter.WriteHeader(w.status)
	_, err := w.ResponseWriter.Write(w.buf.Bytes())
	return err
}

// idemRun follows one keyed POST: whether a write packet went on the wire,
// and its detachment from the caller's context.
type idemRun struct {
	mu        sync.Mutex
	wrote     bool
	detached  bool               // the caller went away after the write: the run goes on
	timer     *time.Timer        // bounds a detached run
	cancel    context.CancelFunc // cancels the run's context
	bound     time.Duration      // how long a detached run may take
	log       *zap.Logger
	requestID string
}

// onWire notes that a write packet is about to be sent (countPacket, from
// the upstream client's OnAttempt hook). It is set even when the caller has
// just gone (the send then fails at once, but cannot be proven unsent): the
// outcome is then Unknown, never "nothing happened".
func (r *idemRun) onWire() {
	r.mu.Lock()
	r.wrote = true
	r.mu.Unlock()
}

func (r *idemRun) sent() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wrote
}

// callerGone runs when the caller's context ends: before any write the run
// stops (nothing executed); after it the run finishes, bounded.
func (r *idemRun) callerGone() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.wrote {
		r.cancel()
		return
	}
	r.detached = true
	r.timer = time.AfterFunc(r.bound, r.cancel)
	if r.log != nil {
		r.log.Info("caller went away after the write was sent; finishing it for a retry", zap.String("request_id", r.requestID))
	}
}

// writePacketKey marks the context of a call whose packet writes.
type writePacketKey struct{}

// markWrites returns ctx marked when reqs change anything, so that
// countPacket can tell the keyed request a write went on the wire.
func markWrites(ctx context.Context, reqs []translator.Request) context.Context {
	st := stateFrom(ctx)
	if st == nil || st.idem == nil {
		return ctx
	}
	for _, r := range reqs {
		if !r.Op().ReadOnly() {
			return context.WithValue(ctx, writePacketKey{}, true)
		}
	}
	return ctx
}

// noteWrite is countPacket's part: a packet is going out on ctx.
func noteWrite(ctx context.Context, st *reqState) {
	if st.idem != nil && ctx.Value(writePacketKey{}) != nil {
		st.idem.onWire()
	}
}

// idempotencyStoreKey names a record: the owner, then a hash of the key
// (fixed length, no separator inside, whatever the caller sent).
func idempotencyStoreKey(owner, key string) string {
	sum := sha256.Sum256([]byte(key))
	return "pleskgate:idem:" + owner + ":" + hex.EncodeToString(sum[:16])
}

// idempotencyFingerprint is what a key's record remembers of its request:
// an HMAC, keyed like identities, since the body holds the new client's password.
func (s *Server) idempotencyFingerprint(r *http.Request, body []byte) string {
	h := hmac.New(sha256.New, s.cfg.StateSecret)
	h.Write([]byte(r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// idempotent applies Idempotency-Key to POSTs. It runs after the
// validator, so the body is valid and the caller's credentials are known.
func (s *Server) idempotent(c echo.Context, next echo.HandlerFunc) error {
	r := c.Request()
	if r.Method != http.MethodPost {
		return next(c)
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return next(c)
	}
	if len(key) > 255 {
		return errBadRequest("Idempotency-Key may be at most 255 characters", FieldError{Field: "header.Idempotency-Key", Message: "too long"})
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return errBadRequest("reading the body: " + err.Error())
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	fp := s.idempotencyFingerprint(r, body)
	ctx := r.Context()
	owner := identityFrom(ctx) // per API key name in service mode (authenticate.go)
	storeKey := idempotencyStoreKey(owner, key)

	// Not cancelled with the caller: a claim made but not reported back
	// would hold the key until its lease ran out.
	existing, claimed, err := s.cfg.Idempotency.Begin(context.WithoutCancel(ctx), owner, storeKey, fp, s.cfg.IdempotencyTTL)
	switch {
	case errors.Is(err, store.ErrOwnerRecordsExhausted):
		s.metrics.idempotency.WithLabelValues("quota").Inc()
		c.Response().Header().Set("Retry-After", "3600")
		return &Error{Status: http.StatusTooManyRequests, Slug: "idempotency-quota", Title: "Too many Idempotency-Key records",
			Detail: "this caller already holds the most Idempotency-Key records allowed; they expire after the idempotency TTL. Nothing was sent: retry later or send the request without the key"}
	case errors.Is(err, store.ErrIdempotencyFull):
		s.metrics.idempotency.WithLabelValues("store_full").Inc()
		return &Error{Status: http.StatusServiceUnavailable, Slug: "idempotency-store-full", Title: "Idempotency store full",
			Detail: "the gateway's Idempotency-Key store is full. Nothing was sent: retry later or send the request without the key"}
	case err != nil:
		// Decided: without the store we cannot promise at-most-once, so
		// refuse rather than risk a duplicate client (DESIGN.md §5).
		s.metrics.idempotency.WithLabelValues("store_error").Inc()
		s.log.Warn("idempotency store unavailable", zap.Error(err))
		return &Error{Status: http.StatusServiceUnavailable, Slug: "idempotency-unavailable", Title: "Idempotency store unavailable",
			Detail: "the request carries an Idempotency-Key but the store that guarantees it is unreachable; retry later or send it without the key"}
	}
	if !claimed {
		switch {
		case existing.Fingerprint != fp:
			s.metrics.idempotency.WithLabelValues("mismatch").Inc()
			return &Error{Status: http.StatusUnprocessableEntity, Slug: "idempotency-key-reused", Title: "Idempotency-Key reused",
				Detail: "this Idempotency-Key was used with a different request; use a new key for a new request"}
		case !existing.Done:
			s.metrics.idempotency.WithLabelValues("conflict").Inc()
			return &Error{Status: http.StatusConflict, Slug: "idempotency-in-flight", Title: "Request still in progress",
				Detail: "a request with this Idempotency-Key is still being processed; retry after it completes"}
		}
		if err := s.recheckAuth(ctx); err != nil { // a replay only for credentials Plesk vouched for lately (shield.go)
			return err
		}
		s.metrics.idempotency.WithLabelValues("replayed").Inc()
		for k, vs := range existing.Header {
			c.Response().Header()[k] = vs
		}
		c.Response().Header().Set("Idempotent-Replayed", "true")
		return c.Blob(existing.Status, existing.Header["Content-Type"][0], existing.Body)
	}
	reconciling := existing.Unknown
	if reconciling {
		s.metrics.idempotency.WithLabelValues("reconcile").Inc()
	} else {
		s.metrics.idempotency.WithLabelValues("new").Inc()
	}
	storeCtx := context.WithoutCancel(ctx)

	// The run's context ignores the caller going away once a write is on
	// the wire (idemRun.callerGone).
	run := &idemRun{bound: 2 * s.upstreamTimeout(), log: s.log, requestID: requestID(c)}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	run.cancel = cancel
	defer func() {
		cancel()
		run.mu.Lock()
		if run.timer != nil {
			run.timer.Stop()
		}
		run.mu.Unlock()
	}()
	st := stateFrom(ctx)
	if st != nil {
		st.idem = run
	}
	stop := context.AfterFunc(ctx, run.callerGone)
	defer stop()
	c.SetRequest(r.WithContext(runCtx))

	rw := &recordingWriter{ResponseWriter: c.Response().Writer}
	defer func() {
		// A panic leaves no response to store: free the key so a retry can
		// run, unless a write went out (then the outcome is unknown).
		if p := recover(); p != nil {
			c.Response().Writer = rw.ResponseWriter // the panic's 500 goes straight out
			if run.sent() {
				_ = s.cfg.Idempotency.Complete(storeCtx, owner, storeKey, unknownRecord(fp, http.StatusInternalServerError), s.cfg.IdempotencyTTL)
			} else if reconciling {
				_ = s.cfg.Idempotency.Complete(storeCtx, owner, storeKey, existing, s.cfg.IdempotencyTTL)
			} else {
				_ = s.cfg.Idempotency.Release(storeCtx, owner, storeKey)
			}
			panic(p)
		}
	}()
	c.Response().Writer = rw
	answered := false // reconcile wrote the final answer without a write
	if reconciling {
		var err error
		answered, err = s.reconcile(c, body)
		if err != nil {
			c.Error(err)
		} else if !answered {
			// The earlier write did not take effect: send it now.
			if err := next(c); err != nil {
				c.Error(err)
			}
		}
	} else if err := next(c); err != nil {
		c.Error(err) // render the problem now so it can be stored
	}

	wrote := run.sent()
	var rec store.IdempotencyRecord
	switch {
	case answered:
		rec = s.finalRecord(c, fp, rw)
	case !wrote, rw.status == http.StatusUnauthorized, rw.status == http.StatusForbidden:
		// Nothing executed (a Plesk 401/403 refuses the packet as a whole).
		if reconciling {
			// The earlier attempt's outcome is still unknown (the read-back
			// failed or could not decide): keep its record so the next
			// retry reconciles again.
			rec = existing
			break
		}
		if err := s.cfg.Idempotency.Release(storeCtx, owner, storeKey); err != nil {
			s.log.Warn("idempotency release failed", zap.Error(err))
		}
		return rw.flush()
	case rw.status >= 500, rw.status == 0, rw.status == statusClientClosed:
		// The write went out and no usable answer came back.
		rec = unknownRecord(fp, rw.status)
	default:
		rec = s.finalRecord(c, fp, rw)
	}
	if err := s.cfg.Idempotency.Complete(storeCtx, owner, storeKey, rec, s.cfg.IdempotencyTTL); err != nil {
		// Decided: the caller still gets the true outcome (the write
		// happened; a 5xx would invite a retry without the key, and a
		// duplicate), marked as not recorded. The claim is left as an
		// unknown outcome, so a retry with the key reconciles it instead of
		// writing again (DESIGN.md §5).
		s.metrics.idempotency.WithLabelValues("not_recorded").Inc()
		s.log.Warn("idempotency record not stored; the key is left for a retry to reconcile", zap.String("request_id", requestID(c)), zap.Error(err))
		if err := s.cfg.Idempotency.Abandon(storeCtx, owner, storeKey); err != nil {
			s.log.Warn("idempotency claim not abandoned; it lapses within its lease", zap.Error(err))
		}
		c.Response().Header().Set(headerRecorded, "false")
	}
	return rw.flush()
}

// statusClientClosed is nginx's 499, which the gateway answers when the
// caller's context ended.
const statusClientClosed = 499

// unknownRecord is the record of a write whose outcome is unknown.
func unknownRecord(fp string, status int) store.IdempotencyRecord {
	return store.IdempotencyRecord{Fingerprint: fp, Done: true, Unknown: true, Status: status, Header: map[string][]string{}}
}

// finalRecord is the stored form of the response rw recorded.
func (s *Server) finalRecord(c echo.Context, fp string, rw *recordingWriter) store.IdempotencyRecord {
	rec := store.IdempotencyRecord{Fingerprint: fp, Done: true, Status: rw.status, Header: map[string][]string{}, Body: rw.buf.Bytes()}
	for _, k := range replayedHeaders {
		if v := c.Response().Header().Values(k); len(v) > 0 {
			rec.Header[k] = v
		}
	}
	if len(rec.Header["Content-Type"]) == 0 {
		rec.Header["Content-Type"] = []string{"application/json"}
	}
	return rec
}

// upstreamTimeout is the per-packet timeout of the upstream client.
func (s *Server) upstreamTimeout() time.Duration {
	if t := s.cfg.Upstream.Timeout; t > 0 {
		return t
	}
	return 30 * time.Second
}

// reconcile reads back whether the earlier write of this key took effect,
// with the reconciler the request's route declares (routes.go). It answers
// (answered=true) when it did, with the answer the first attempt would have
// given and Idempotent-Reconciled: true. It returns false when the write did
// not take effect (the caller then sends it), or an error when the read
// failed or cannot decide (the record stays Unknown). A route without a
// reconciler cannot read its effect back: 409 idempotency-outcome-unknown,
// nothing sent.
func (s *Server) reconcile(c echo.Context, body []byte) (bool, error) {
	var rt *route
	if st := stateOf(c); st != nil {
		rt = routeOf(st.operation)
	}
	if rt == nil || rt.reconcile == nil {
		return false, errOutcomeUnknown("the request sent with this Idempotency-Key got no answer from Plesk and its effect cannot be read back, so it was not sent again; check the state in Plesk")
	}
	return rt.reconcile(s, c, body)
}

// errOutcomeUnknown is the 409 of a keyed write whose earlier outcome the
// gateway cannot read back.
func errOutcomeUnknown(detail string) error {
	return &Error{Status: http.StatusConflict, Slug: "idempotency-outcome-unknown", Title: "Outcome of the earlier attempt unknown", Detail: detail}
}

// reconciledTrue is the value of Idempotent-Reconciled on an answer a
// reconciler built.
func reconciledTrue() *string {
	t := "true"
	return &t
}

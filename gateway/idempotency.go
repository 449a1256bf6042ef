package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/pleskgate/pleskgate/gateway/store"
)

// Idempotency-Key on POST (draft-ietf-httpapi-idempotency-key-header):
// the same key with the same request replays the stored response; the same
// key with a different request is 422; the same key while the first request
// is still running is 409. Keys are scoped to the caller's identity.

// replayedHeaders are the response headers a replay repeats.
var replayedHeaders = []string{"Content-Type", "Location", "ETag"}

// recordingWriter tees a response so it can be stored.
type recordingWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (w *recordingWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
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
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery + "\n"))
	h.Write(body)
	fp := hex.EncodeToString(h.Sum(nil))
	storeKey := "pleskgate:idem:" + identityFrom(r.Context()) + ":" + key

	ctx := r.Context()
	existing, claimed, err := s.cfg.Idempotency.Begin(ctx, storeKey, fp, s.cfg.IdempotencyTTL)
	if err != nil {
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
	s.metrics.idempotency.WithLabelValues("new").Inc()
	defer func() {
		// A panic leaves no response to store: free the key so a retry can run.
		if r := recover(); r != nil {
			_ = s.cfg.Idempotency.Release(context.WithoutCancel(ctx), storeKey)
			panic(r)
		}
	}()
	rw := &recordingWriter{ResponseWriter: c.Response().Writer}
	c.Response().Writer = rw
	if err := next(c); err != nil {
		c.Error(err) // render the problem now so it can be stored
	}
	// The first request's outcome is final for the key unless it failed
	// for reasons a retry could fix (5xx: upstream down, timeout).
	storeCtx := context.WithoutCancel(ctx)
	if rw.status >= 500 || rw.status == 0 {
		if err := s.cfg.Idempotency.Release(storeCtx, storeKey); err != nil {
			s.log.Warn("idempotency release failed", zap.Error(err))
		}
		return nil
	}
	rec := store.IdempotencyRecord{Fingerprint: fp, Done: true, Status: rw.status, Header: map[string][]string{}, Body: rw.buf.Bytes()}
	for _, k := range replayedHeaders {
		if v := c.Response().Header().Values(k); len(v) > 0 {
			rec.Header[k] = v
		}
	}
	if len(rec.Header["Content-Type"]) == 0 {
		rec.Header["Content-Type"] = []string{"application/json"}
	}
	if err := s.cfg.Idempotency.Complete(storeCtx, storeKey, rec, s.cfg.IdempotencyTTL); err != nil {
		s.log.Warn("idempotency record not stored", zap.Error(err))
	}
	return nil
}

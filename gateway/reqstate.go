package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/trace"

	"github.com/pleskgate/pleskgate/gateway/upstream"
)

// reqState is what the request path (server.go's middleware) learns about one request (request
// id, operation, caller, upstream credentials, packets sent, Plesk error
// code). It is stored as one value on the request's context.
type reqState struct {
	packets   atomic.Int32 // upstream packets sent for this request
	requestID string
	route     *specRoute // the OpenAPI operation matched (matchOperation), nil for other routes
	operation string     // its operation id
	caller    string     // "login", "key" or "key:<name>": the access log's principal

	// Set by authenticate.
	creds    upstream.Credentials
	hasCreds bool
	identity string // identityFrom: an HMAC under the state secret

	idem *idemRun // set by idempotent for a POST with an Idempotency-Key

	errcode    int // Plesk error code of the problem written, when hasErrcode
	hasErrcode bool

	// Tracing (tracing.go): the server span, nil when tracing is off, and
	// its trace id for the access log and problems.
	span    trace.Span
	traceID string

	// jsonOut writes the answer: JSON without HTML escapes (jsonout.go).
	jsonOut htmlUnescaper
}

type reqStateKey struct{}

// requestState gives every request its state (reqState) on its context and
// an X-Request-ID, and has JSON answers written without HTML escapes
// (jsonout.go).
func (s *Server) requestState(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		st := &reqState{}
		r := c.Request()
		c.SetRequest(r.WithContext(withState(r.Context(), st)))
		setRequestID(c, st)
		st.jsonOut.reset(c.Response().Writer)
		c.Response().Writer = &st.jsonOut
		return next(c)
	}
}

// setRequestID accepts a sane X-Request-ID or makes one.
func setRequestID(c echo.Context, st *reqState) {
	id := c.Request().Header.Get(echo.HeaderXRequestID)
	if !validRequestID(id) {
		id = newRequestID()
	}
	st.requestID = id
	c.Response().Header().Set(echo.HeaderXRequestID, id)
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if b := id[i]; b < 0x21 || b > 0x7e {
			return false
		}
	}
	return true
}

// withState returns ctx carrying st.
func withState(ctx context.Context, st *reqState) context.Context {
	return context.WithValue(ctx, reqStateKey{}, st)
}

// stateFrom returns the request's state, or nil outside the request path.
func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(reqStateKey{}).(*reqState)
	return st
}

// stateOf returns the state of the request c serves, or nil.
func stateOf(c echo.Context) *reqState {
	return stateFrom(c.Request().Context())
}

// countPacket notes one upstream packet sent for the request of ctx
// (upstream.Config.OnAttempt).
func countPacket(ctx context.Context) {
	if st := stateFrom(ctx); st != nil {
		st.packets.Add(1)
		noteWrite(ctx, st)
	}
}

// newRequestID returns 24 random hex digits.
func newRequestID() string {
	var raw [12]byte
	_, _ = rand.Read(raw[:])
	return hex.EncodeToString(raw[:])
}

func requestID(c echo.Context) string {
	if st := stateOf(c); st != nil {
		return st.requestID
	}
	return ""
}

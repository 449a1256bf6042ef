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

// reqState is what the middleware chain learns about one request (request
// id, operation, caller, upstream credentials, packets sent, Plesk error
// code). It is stored as one value on the request's context.
type reqState struct {
	packets   atomic.Int32 // upstream packets sent for this request
	requestID string
	operation string // OpenAPI operation id, when the route is an API operation
	caller    string // "login", "key" or "key:<name>": the access log's principal

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

// withState returns ctx carrying st.
func withState(ctx context.Context, st *reqState) context.Context {
	return context.WithValue(ctx, reqStateKey{}, st)
}

// stateFrom returns the request's state, or nil outside the middleware chain.
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

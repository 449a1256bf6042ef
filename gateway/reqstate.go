package gateway

import (
	"context"
	"encoding/hex"
	"math/rand/v2"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/labstack/echo/v4"
)

// reqState is everything the middleware chain learns about one request
// (request id, operation, caller, upstream credentials, packets sent, Plesk
// error code) in one object, which becomes the request's context once, in
// chain. It replaces values on Echo's context store and two context values
// (packet counter, credentials): one allocation and one request copy
// instead of a map, boxed strings, two context nodes and two request copies.
type reqState struct {
	// The request's own context: the state is the request's context, so
	// putting it there costs no context.WithValue node of its own.
	context.Context

	packets   atomic.Int32 // upstream packets sent for this request
	start     time.Time    // when the chain took the request: the request's one clock reading
	attached  bool         // the state is the context of c.Request() (attach)
	requestID string
	operation string // OpenAPI operation id, when the route is an API operation
	caller    string // "login:…", "key" or "key:<name>" for the access log

	// Set by authenticate.
	creds    Credentials
	hasCreds bool
	identity string // creds.Identity(), memoised; "" when not known yet

	errcode    int // Plesk error code of the problem written, when hasErrcode
	hasErrcode bool

	// Room for a generated request id and for the X-Request-ID header's
	// value slice, so that neither costs an allocation of its own.
	idBuf  [24]byte
	idVals [1]string
}

type reqStateKey struct{}

// attach makes the state the context of c's request. The chain does it only
// when the request leaves it (for a handler, Echo's error handler, CORS):
// until then the state is passed by hand, and a descriptor answered inside
// the chain (serveDescriptor) costs no request copy.
func (st *reqState) attach(c echo.Context) {
	if st.attached {
		return
	}
	st.attached = true
	c.SetRequest(c.Request().WithContext(st))
}

// requestTime is when the request in ctx was taken by the chain, or the
// current time outside it: callers that need "now" for a decision within
// one request (cache expiry, seconds left) read the clock once per request.
func requestTime(ctx context.Context) time.Time {
	if st := stateFrom(ctx); st != nil && !st.start.IsZero() {
		return st.start
	}
	return time.Now()
}

// Value answers reqStateKey with the state and asks the parent for the rest
// (the context package finds a cancelable parent through Value, so deriving
// contexts from the state stays as cheap as from the parent).
func (st *reqState) Value(key any) any {
	if _, ok := key.(reqStateKey); ok {
		return st
	}
	return st.Context.Value(key)
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

// newRequestID returns 24 random hex digits.
func newRequestID() string {
	var buf [24]byte
	return string(appendRequestID(buf[:0]))
}

// appendRequestID appends 24 random hex digits to b. Request ids name log
// lines and need not be secret: math/rand/v2's per-thread ChaCha8 source
// (seeded by the runtime from the OS) costs no system call.
func appendRequestID(b []byte) []byte {
	var raw [12]byte
	x, y := rand.Uint64(), rand.Uint32()
	for i := 0; i < 8; i++ {
		raw[i] = byte(x >> (8 * i))
	}
	for i := 0; i < 4; i++ {
		raw[8+i] = byte(y >> (8 * i))
	}
	return hex.AppendEncode(b, raw[:])
}

// newRequestIDIn writes a fresh id into the state's own buffer and returns
// it as a string viewing that buffer, which is never written again.
func (st *reqState) newRequestIDIn() string {
	b := appendRequestID(st.idBuf[:0])
	return unsafe.String(&b[0], len(b))
}

func requestID(c echo.Context) string {
	if st := stateOf(c); st != nil {
		return st.requestID
	}
	return ""
}

package gateway

import (
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
)

// recoverPanic turns a panic anywhere on the request path into a 500
// problem and one log line with the stack. It is the outermost step, so it
// reads the request's state from the context the inner steps left on it.
// http.ErrAbortHandler (net/http's way to drop a connection on purpose)
// goes on up.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			st := stateOf(c)
			id := ""
			if st != nil {
				id = st.requestID
			}
			s.log.Error("panic serving request", zap.String("request_id", id), zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
			err = &Error{Status: http.StatusInternalServerError, Slug: "internal", Title: "Internal error", Detail: "an unexpected error occurred; the request id identifies it in the logs"}
			if st != nil && st.span != nil {
				endServerSpan(st, http.StatusInternalServerError)
			}
		}()
		return next(c)
	}
}

package gateway

import (
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
)

// recoverPanic turns a panic in any later step or handler into a 500
// problem and one log line with the stack. It runs inside accessLog and the
// server span, so a panicked request is logged, counted and traced like any
// other 500. http.ErrAbortHandler (net/http's way to drop a connection on
// purpose) goes on up.
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
			s.log.Error("panic serving request", zap.String("request_id", stateOf(c).requestID), zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
			err = &Error{Status: http.StatusInternalServerError, Slug: "internal", Title: "Internal error", Detail: "an unexpected error occurred; the request id identifies it in the logs"}
		}()
		return next(c)
	}
}

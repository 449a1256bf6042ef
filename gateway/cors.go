package gateway

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// cors answers CORS for the configured origins. With none configured it is
// no step at all: browsers on other origins get nothing.
func (s *Server) cors() echo.MiddlewareFunc {
	if len(s.cfg.CORSOrigins) == 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:  s.cfg.CORSOrigins,
		AllowMethods:  []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete},
		AllowHeaders:  []string{"Authorization", "X-API-Key", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match", "X-Request-ID"},
		ExposeHeaders: []string{"ETag", "Location", "Link", "Cache-Status", "X-Request-ID", "Idempotent-Replayed", "Idempotent-Reconciled", "Idempotent-Recorded"},
		MaxAge:        600,
	})
}

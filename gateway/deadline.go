package gateway

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pleskgate/pleskgate/gateway/upstream"
)

// answerMargin is what the write deadline keeps for decoding and writing an
// answer once Plesk sent it.
const answerMargin = 2 * time.Second

// answerDeadline notes on each request the time its answer must be written
// by: its start plus the server's WriteTimeout, less answerMargin. The
// upstream admission sheds (503 upstream-busy) a request that, once granted
// a slot or before a retry, could no longer get Plesk's answer by then
// (DESIGN.md §7): net/http would cut the connection and the caller get an
// empty reply for work the panel did.
func (s *Server) answerDeadline(next echo.HandlerFunc) echo.HandlerFunc {
	budget := s.WriteTimeout() - answerMargin
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(upstream.WithAnswerBy(r.Context(), time.Now().Add(budget))))
		return next(c)
	}
}

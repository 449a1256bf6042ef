package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pleskgate/pleskgate/gateway/upstream"
)

// TestAnswerDeadlineIsTheWriteDeadline: a request's answer-by time is its
// start plus the server's WriteTimeout, less the margin for writing.
func TestAnswerDeadlineIsTheWriteDeadline(t *testing.T) {
	s := &Server{cfg: Config{Upstream: upstream.Config{Timeout: 2 * time.Second}}}
	s.conns = newConnTracker(s.cfg, prometheus.NewRegistry()) // HTTPServer reads its head timeout
	var got time.Time
	var ok bool
	h := s.answerDeadline(func(c echo.Context) error {
		got, ok = upstream.AnswerBy(c.Request().Context())
		return nil
	})
	e := echo.New()
	start := time.Now()
	if err := h(e.NewContext(httptest.NewRequest(http.MethodPost, "/clients", nil), httptest.NewRecorder())); err != nil {
		t.Fatal(err)
	}
	want := start.Add(s.WriteTimeout() - answerMargin)
	if !ok || got.Before(want) || got.Sub(want) > time.Second {
		t.Fatalf("answer by %v (set %v), want %v", got, ok, want)
	}
}

package upstream

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReadsWholeAnswer: an answer announced by Content-Length is
// read whole into the buffer sized from it.
func TestReadsWholeAnswer(t *testing.T) {
	answer := strings.Repeat("<x>answer</x>", 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	u := New(Config{BaseURL: srv.URL, Timeout: 5 * time.Second})
	body, err := u.send(context.Background(), Credentials{}, []byte("<packet/>"), true)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != answer {
		t.Fatalf("answer %.40q…", body)
	}
}

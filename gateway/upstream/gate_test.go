package upstream

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type callIDKey struct{}

// TestCallerLeavingAndPacketGoingAreDecidedOnce: callers that leave at
// every moment around admission (already gone, gone at once, gone after a
// few microseconds), reads and writes, under admission. A call that returns
// "unsent" never has its packet reach the panel, and a call that returns
// any other error after leaving had its packet counted (OnAttempt) before
// it returned: what the gateway's failed-login budget and idempotency
// records rely on.
func TestCallerLeavingAndPacketGoingAreDecidedOnce(t *testing.T) {
	var atPanel sync.Map // call id → reached the panel
	panel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		atPanel.Store(string(b), true)
		_, _ = io.WriteString(w, `<?xml version="1.0"?><packet><server><get_protos><result><status>ok</status><protos><proto>1.6.9.1</proto></protos></result></get_protos></server></packet>`)
	}))
	t.Cleanup(panel.Close)
	var counted sync.Map // call id → counted by OnAttempt
	u := New(Config{BaseURL: panel.URL, Concurrency: 2, Queue: 64, Timeout: 5 * time.Second,
		OnAttempt: func(ctx context.Context) {
			if id, ok := ctx.Value(callIDKey{}).(string); ok {
				counted.Store(id, true)
			}
		}})
	var wg sync.WaitGroup
	var unsentN, sentN atomic.Int64
	for i := range 400 {
		wg.Go(func() {
			id := "<call>" + time.Now().Format("150405.000000000") + "-" + string(rune('a'+i%26)) + itoa(i) + "</call>"
			ctx, cancel := context.WithCancel(context.WithValue(context.Background(), callIDKey{}, id))
			switch i % 3 {
			case 0:
				cancel()
			case 1:
				go cancel()
			default:
				time.AfterFunc(time.Duration(i%50)*time.Microsecond, cancel)
			}
			_, err := u.send(ctx, Credentials{Login: "admin", Password: "pw" + itoa(i)}, []byte(id), i%2 == 0)
			cancel()
			_, wasCounted := counted.Load(id)
			switch {
			case err == nil:
			case Unsent(err):
				unsentN.Add(1)
				if wasCounted {
					t.Errorf("call %d: unsent, yet its packet was counted", i)
				}
				time.Sleep(20 * time.Millisecond) // a packet sent anyway would have arrived
				if _, ok := atPanel.Load(id); ok {
					t.Errorf("call %d: unsent, yet its packet reached the panel", i)
				}
			default:
				sentN.Add(1)
				if !wasCounted {
					t.Errorf("call %d: left after its packet went (%v), but it was not counted before the call returned", i, err)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d calls left before their packet went, %d after", unsentN.Load(), sentN.Load())
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

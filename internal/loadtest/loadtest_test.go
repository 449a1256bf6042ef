package loadtest

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestInterruptedCreates runs a small load with callers that give up
// mid-request and add packets whose answers never come back, each retried
// with its Idempotency-Key: the simulator must end with exactly the model's
// clients (nothing lost, nothing doubled), and every final answer must be
// what the model expected of the first attempt.
func TestInterruptedCreates(t *testing.T) {
	if testing.Short() {
		t.Skip("a load run")
	}
	n, conc := 600, 8
	if v, err := strconv.Atoi(os.Getenv("LOADTEST_INTERRUPTED_REQUESTS")); err == nil && v > 0 {
		n, conc = v, 16 // a larger run by hand
	}
	rep, err := Run(context.Background(), Config{
		Requests: n, Concurrency: conc, LoginsPerWorker: 6, MaxDuration: 3 * time.Minute, Seed: 14,
		Disconnects: 0.3, Timeouts: 0.1, Latency: 10 * time.Millisecond, UpstreamTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Print(&out)
	t.Log("\n" + out.String())
	if !rep.OK() {
		t.Fatal("the run did not meet the model")
	}
	if rep.Interrupts.Disconnects == 0 || rep.Interrupts.Timeouts == 0 || rep.Interrupts.Reconciled == 0 {
		t.Fatalf("the run injected too little to test anything: %+v", rep.Interrupts)
	}
}

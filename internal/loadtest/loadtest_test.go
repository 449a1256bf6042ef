package loadtest

import (
	"bytes"
	"context"
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
	rep, err := Run(context.Background(), Config{
		Requests: 600, Concurrency: 8, LoginsPerWorker: 6, MaxDuration: 3 * time.Minute, Seed: 14,
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

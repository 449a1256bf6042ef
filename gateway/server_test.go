package gateway_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pleskgate/pleskgate/internal/loadtest"
)

// TestLoadSmall is the small size of cmd/pleskload (make load runs
// the full one): 2,000 mixed requests at concurrency 16, every answer as the
// model predicts, and the simulator's final state equal to the model.
func TestLoadSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	rep, err := loadtest.Run(context.Background(), loadtest.Config{Requests: 2000, Concurrency: 16, LoginsPerWorker: 10, MaxDuration: 2 * time.Minute, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	t.Log("\n" + out.String())
	if !rep.OK() {
		t.Fatal("load run failed (see the report above)")
	}
}

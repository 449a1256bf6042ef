package loadtest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestStorm runs the brute-force storm beside normal traffic: the panel
// sees no more failed logins than the global budget, and the normal
// callers see no error. `make test` runs a small storm; the full one
// (2,000 wrong passwords from 200 addresses) runs with
// PLESKGATE_STORM=full (make storm).
func TestStorm(t *testing.T) {
	cfg := StormConfig{WrongPasswords: 300, Addresses: 30, Concurrency: 16, NormalCallers: 4, NormalRequests: 30}
	if os.Getenv("PLESKGATE_STORM") == "full" {
		cfg = StormConfig{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := Storm(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	t.Log("\n" + out.String())
	if rep.PanelFailedLogins > rep.Allowed {
		t.Errorf("the panel saw %d failed logins, the global budget allows %d", rep.PanelFailedLogins, rep.Allowed)
	}
	if rep.NormalErrors != 0 {
		t.Errorf("normal callers saw %d errors", rep.NormalErrors)
	}
	if rep.StormAnswers[429] == 0 || rep.StormAnswers[401] == 0 {
		t.Errorf("the storm should meet both 401 (within the budget) and 429 (beyond it): %v", rep.StormAnswers)
	}
	var answered int64
	for _, n := range rep.StormAnswers {
		answered += n
	}
	if answered != int64(rep.Config.WrongPasswords) {
		t.Errorf("%d storm answers for %d wrong passwords", answered, rep.Config.WrongPasswords)
	}
}

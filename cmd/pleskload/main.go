// Command pleskload sends a bounded number of mixed requests (create, get,
// patch, delete, list, bulk delete, descriptors, idempotent replays) to a
// gateway in front of a plesksim, both started in process on loopback, and
// compares the simulator's final state with a model of what every request
// should have done. It exits 1 when any answer was unexpected or the final
// state differs.
//
//	go run ./cmd/pleskload -requests 100000 -concurrency 64
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pleskgate/pleskgate/internal/loadtest"
)

func main() {
	var cfg loadtest.Config
	flag.IntVar(&cfg.Requests, "requests", 100000, "requests to send in total")
	flag.IntVar(&cfg.Concurrency, "concurrency", 64, "concurrent workers (each owns its own logins)")
	flag.IntVar(&cfg.LoginsPerWorker, "logins", 40, "logins each worker owns")
	flag.DurationVar(&cfg.MaxDuration, "max-duration", 10*time.Minute, "hard bound on the run")
	flag.Uint64Var(&cfg.Seed, "seed", 0, "random seed (0 = random)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fmt.Printf("pleskload: %d requests, concurrency %d, %d logins per worker, bound %v (gateway and plesksim in process, loopback)\n",
		cfg.Requests, cfg.Concurrency, cfg.LoginsPerWorker, cfg.MaxDuration)
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pleskload:", err)
		os.Exit(1)
	}
	rep.Print(os.Stdout)
	if !rep.OK() {
		os.Exit(1)
	}
}

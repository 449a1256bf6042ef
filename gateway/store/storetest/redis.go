// Package storetest runs a real redis-server for the tests of the stores
// and of the gateway in front of them (Debian package redis-server; `make
// deps` installs it).
package storetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a throwaway redis-server on a loopback port: no persistence,
// killed at the end of the test.
type Redis struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// StartRedis starts a redis-server for the test, killed at its end. Without
// the binary the test is skipped, unless PLESKGATE_REQUIRE_REDIS=1 (CI),
// where it fails.
func StartRedis(t *testing.T) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("PLESKGATE_REQUIRE_REDIS") == "1" {
			t.Fatalf("redis-server not found in PATH but PLESKGATE_REQUIRE_REDIS=1: install it (Debian: apt-get install -y redis-server, or `make deps`)")
		}
		t.Skip("redis-server not installed (apt-get install -y redis-server); set PLESKGATE_REQUIRE_REDIS=1 to make this a failure")
	}
	r := &Redis{t: t, bin: bin, dir: t.TempDir()}
	var lastErr error
	for range 5 { // a free port can be taken between choosing and binding it
		r.port = FreePort(t)
		if lastErr = r.Start(); lastErr == nil {
			t.Cleanup(r.Kill)
			return r
		}
	}
	t.Fatalf("starting redis-server: %v", lastErr)
	return nil
}

// FreePort is a loopback port nothing listens on (at the moment it is chosen).
func FreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start runs redis-server on its port (again, after Kill) and waits until it
// answers PING.
func (r *Redis) Start() error {
	logFile := filepath.Join(r.dir, "redis.log")
	cmd := exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--logfile", logFile, "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	r.cmd, r.done = cmd, done
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr(), DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-done:
			log, _ := os.ReadFile(logFile)
			return fmt.Errorf("redis-server exited on port %d:\n%s", r.port, log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			r.Kill()
			return fmt.Errorf("redis-server on port %d not answering: %v", r.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the server at once (SIGKILL: no chance to say goodbye to clients).
func (r *Redis) Kill() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

// Addr is the server's host:port.
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// URL is what the gateway is configured with. The timeouts are raised from
// the 500ms defaults: on a loaded CI machine (and under -race) a live Redis
// can take that long to answer; a killed one is refused at once anyway.
func (r *Redis) URL() string {
	return "redis://" + r.Addr() + "/0?dial_timeout=5s&read_timeout=5s&write_timeout=5s"
}

// Client is a direct connection for inspecting what the gateway stored.
func (r *Redis) Client() *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	r.t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pleskgate/pleskgate/gateway/store/storetest"
	"github.com/pleskgate/pleskgate/gateway/upstream"
)

// storm sends n requests with n different wrong passwords for admin,
// workers at a time, the i-th to envs[i%len(envs)], and counts the answers
// by status.
func storm(t *testing.T, n, workers int, prefix string, envs ...*shieldEnv) map[int]int {
	t.Helper()
	var mu sync.Mutex
	statuses := map[int]int{}
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				r := envs[i%len(envs)].do("GET", "/clients", "admin", prefix+strconv.Itoa(i), nil, "")
				mu.Lock()
				statuses[r.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return statuses
}

// sharedBudgets configures a replica on the Redis at url with the given
// budgets (DESIGN.md §7, "Shared bounds are shared").
func sharedBudgets(t *testing.T, url string, global, perAddr int) func(*Config) {
	return func(c *Config) {
		c.Cache, c.Idempotency = newRedisStoresT(t, url)
		c.StateSecret = replicaSecret
		c.UpstreamAuthFailuresPerMinute, c.AuthFailuresPerMinute = global, perAddr
	}
}

// Two replicas on one Redis: the failed logins that reach the panel stay
// within one budget, not one per replica (issue 26, medium 5: 72 against 30).
func TestShieldBudgetsSharedAcrossReplicas(t *testing.T) {
	t.Run("global budget", func(t *testing.T) {
		const budget = 6
		r := storetest.StartRedis(t)
		a := newShieldEnv(t, sharedBudgets(t, r.URL(), budget, 1000))
		b := a.replica(sharedBudgets(t, r.URL(), budget, 1000))
		b.learn()
		st := storm(t, 40, 8, "wrong-", a, b)
		if got := a.lc.failed.Load(); got != budget || st[http.StatusUnauthorized] != budget || st[http.StatusTooManyRequests] != 40-budget {
			t.Fatalf("two replicas let %d failed logins reach the panel, want the budget %d (answers %v)", got, budget, st)
		}
		// Accepted credentials keep working on both; a minute later the budget is whole again.
		for _, e := range []*shieldEnv{a, b} {
			if r := e.do("GET", "/clients", "admin", adminPass, nil, ""); r.StatusCode != http.StatusOK {
				t.Fatalf("accepted credentials during the storm: %d %s", r.StatusCode, r.body)
			}
		}
		a.clock.Advance(time.Minute + time.Second)
		st = storm(t, 20, 4, "later-", a, b)
		if got := a.lc.failed.Load(); got != 2*budget || st[http.StatusUnauthorized] != budget {
			t.Fatalf("after a minute: %d failed logins in all, want %d (answers %v)", got, 2*budget, st)
		}
	})
	t.Run("per-address budget", func(t *testing.T) {
		const perAddr = 3
		r := storetest.StartRedis(t)
		a := newShieldEnv(t, sharedBudgets(t, r.URL(), 1000, perAddr))
		b := a.replica(sharedBudgets(t, r.URL(), 1000, perAddr))
		b.learn()
		st := storm(t, 20, 4, "wrong-", a, b)
		if got := a.lc.failed.Load(); got != perAddr || st[http.StatusTooManyRequests] != 20-perAddr {
			t.Fatalf("one address through two replicas: %d failed logins, want %d (answers %v)", got, perAddr, st)
		}
		// The budget's key is an HMAC under the state secret: no address in Redis.
		keys, err := r.Client().Keys(t.Context(), "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if strings.Contains(k, "127.0.0.1") || strings.Contains(k, "admin") {
				t.Fatalf("a Redis key names the caller: %q", k)
			}
		}
	})
	t.Run("Redis down: each replica keeps its own budget", func(t *testing.T) {
		const budget = 4
		r := storetest.StartRedis(t)
		a := newShieldEnv(t, sharedBudgets(t, r.URL(), budget, 1000))
		b := a.replica(sharedBudgets(t, r.URL(), budget, 1000))
		b.learn()
		r.Kill()
		st := storm(t, 30, 4, "wrong-", a, b)
		if got := a.lc.failed.Load(); got > 2*budget || st[http.StatusUnauthorized]+st[http.StatusTooManyRequests] != 30 {
			t.Fatalf("Redis down: %d failed logins (bound %d per replica), answers %v", got, budget, st)
		}
		if r := a.do("GET", "/clients", "admin", adminPass, nil, ""); r.StatusCode != http.StatusOK {
			t.Fatalf("accepted credentials with Redis down: %d %s", r.StatusCode, r.body)
		}
		errs := testutil.ToFloat64(a.gw.shield.sharedErrors) + testutil.ToFloat64(b.gw.shield.sharedErrors)
		if errs < 1 {
			t.Fatal("Redis down, and pleskgate_auth_shield_shared_errors_total says nothing")
		}
		t.Logf("30 requests with Redis down asked it %v times (a replica pauses %v after an error)", errs, sharedPause)
	})
}

// Before the panel's versions are learned, the get_protos every request
// needs is shared: when it fails, its own leader must not send it again
// (issue 26, medium 5: 39 failed logins against 30).
func TestShieldCountsEveryPacketBeforeVersionsLearned(t *testing.T) {
	const budget = 5
	e := newShieldEnvUnlearned(t, func(c *Config) { c.UpstreamAuthFailuresPerMinute, c.AuthFailuresPerMinute = budget, 1000 })
	e.lc.delay.Store(int64(40 * time.Millisecond)) // followers gather behind each shared ask
	st := storm(t, 40, 20, "wrong-", e)
	if got := e.lc.failed.Load(); got > budget {
		t.Fatalf("the panel saw %d failed logins against a budget of %d (answers %v)", got, budget, st)
	}
}

// A panel incident (HTTP 413 or 5xx to every packet) is not a failed login:
// once the panel recovers, an administrator it never accepted before is not
// locked out (issue 26, medium 6).
func TestShieldPanelIncidentIsNotAFailedLogin(t *testing.T) {
	for _, status := range []int{http.StatusRequestEntityTooLarge, http.StatusInternalServerError} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			e := newShieldEnv(t, func(c *Config) {
				c.AuthFailuresPerMinute, c.UpstreamAuthFailuresPerMinute = 10, 30
				c.Upstream.BreakerMinCalls = 1000 // the breaker is not under test
			})
			e.lc.status.Store(int64(status))
			for i := 0; i < 10; i++ {
				if r := e.do("GET", "/clients", "res1", resellerPass, nil, ""); r.StatusCode < 500 {
					t.Fatalf("read %d during the incident: %d %s", i, r.StatusCode, r.body)
				}
			}
			e.lc.status.Store(0)
			if r := e.do("GET", "/clients", "res1", resellerPass, nil, ""); r.StatusCode != http.StatusOK {
				t.Fatalf("the first read after the panel recovered: %d %s", r.StatusCode, r.body)
			}
			if got := testutil.ToFloat64(e.gw.shield.logins.WithLabelValues("unknown")); got != 0 {
				t.Fatalf("the incident's answers were counted as %v unknown logins", got)
			}
		})
	}
}

// The access log has one caller key (zap's source location) and never the
// Basic login as typed: a password typed into the login field must not
// land in the log (issue 26, low).
func TestAccessLogNamesCallerOnceWithoutLogin(t *testing.T) {
	var buf syncBuffer
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	log := zap.New(zapcore.NewCore(enc, zapcore.AddSync(&buf), zap.InfoLevel), zap.AddCaller())
	e := newShieldEnv(t, func(c *Config) { c.Logger = log })
	const typo = "Hunter2-typed-as-login"
	e.do("GET", "/clients", typo, "x", nil, "")
	e.do("GET", "/clients", "admin", adminPass, nil, "")
	e.do("GET", "/clients", "res1", resellerPass, nil, "")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	principals := map[string]bool{}
	for _, line := range lines {
		if strings.Contains(line, typo) || strings.Contains(line, `"login:admin"`) || strings.Contains(line, `"login:res1"`) {
			t.Fatalf("the access log names a login as typed: %s", line)
		}
		if n := strings.Count(line, `"caller":`); n > 1 {
			t.Fatalf("%d caller keys in one line: %s", n, line)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if m["msg"] == "request" && m["route"] == "/clients" {
			p, _ := m["principal"].(string)
			principals[p] = true
		}
	}
	// Three logins, three fingerprints: the lines of one caller can still be told apart.
	if len(principals) != 3 {
		t.Fatalf("principals %v, want three distinct fingerprints", principals)
	}
	for p := range principals {
		if !strings.HasPrefix(p, "login:") || len(p) != len("login:")+12 {
			t.Fatalf("principal %q is not a login fingerprint", p)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Sync() error { return nil }

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The fingerprint is the HMAC of the login under the state secret
// (upstream.Keyed), whatever HMAC the pool hands out.
func TestPrincipalIsKeyedLogin(t *testing.T) {
	s := &Server{cfg: Config{StateSecret: replicaSecret}}
	for range 3 {
		for _, login := range []string{"admin", "res1", "", "ü-ñ"} {
			got := s.principal(&reqState{caller: "login", creds: upstream.Credentials{Login: login}})
			if want := "login:" + upstream.Keyed(replicaSecret, "log-login", login)[:12]; got != want {
				t.Fatalf("%q: %s, want %s", login, got, want)
			}
		}
	}
	if got := s.principal(&reqState{caller: "key:reader"}); got != "key:reader" {
		t.Fatalf("API key principal %q", got)
	}
}

package gateway

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/translator"
)

// The failed-login shield (DESIGN.md §7, "Failed logins"). Plesk's fail2ban
// bans the address that fails to log in, and every packet the gateway sends
// comes from the gateway's own address: a brute-force storm through the
// gateway would lock every user out. So:
//
//   - credentials Plesk just refused are remembered (by identity, never the
//     password) for refusedFor and get a 401 without a packet;
//   - a request whose credentials Plesk has not accepted recently needs a
//     token of its caller address's budget and of the global budget before
//     any packet goes. The token is held while the request runs and spent
//     only when Plesk refused the login (or the outcome is unknown); a
//     request Plesk accepted gives it back. Since a request is let through
//     only while its budgets' tokens exceed the tokens held, the panel never
//     sees more failed logins than the budgets allow;
//   - beyond a budget: 429 with Retry-After, no packet;
//   - credentials Plesk accepted recently (acceptedFor) need no token, so
//     they keep working during a storm.
//
// Accepted and refused identities live in two bounded LRUs: strangers can
// fill the refused one, never the accepted one (only Plesk's yes puts an
// identity there), so a storm cannot push known-good callers out.
//
// With Redis (DESIGN.md §7, "Shared bounds are shared") a request also
// holds a unit of the same two budgets in Redis (store.Budgets: at most the
// budget's failed logins in any minute, all replicas together), taken and
// settled alongside the replica's own tokens. The replica's own budgets
// stay: when Redis cannot be reached the request goes on with them alone
// (logged, pleskgate_auth_shield_shared_errors_total), so an outage of
// Redis bounds the panel's failed logins by the budget per replica instead
// of locking every new login out.

const (
	refusedFor          = 60 * time.Second // how long a refusal is remembered
	acceptedFor         = time.Hour        // how long an accepted login skips the budgets
	maxRefused          = 100000           // identities remembered as refused
	maxAccepted         = 50000            // identities remembered as accepted
	maxAddresses        = 20000            // caller addresses with a budget of their own
	defaultAddrBudget   = 10
	defaultGlobalBudget = 30
	defaultAuthRecheck  = 60 * time.Second
	budgetWindow        = time.Minute // a shared budget counts the failed logins of the last minute
)

// shieldLimits are the shield's bounds; the zero value takes the defaults.
// Tests shrink them.
type shieldLimits struct {
	refused, accepted, addresses int
}

// budget is a token bucket (x/time/rate) and the tokens requests hold.
type budget struct {
	lim  *rate.Limiter
	held int
}

// free is how many tokens are neither spent nor held at now.
func (b *budget) free(now time.Time) float64 { return b.lim.TokensAt(now) - float64(b.held) }

// wait is how long until one token is free at now.
func (b *budget) wait(now time.Time) time.Duration {
	missing := 1 - b.free(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(b.lim.Limit()) * float64(time.Second))
}

type shield struct {
	now          func() time.Time
	perAddr      rate.Limit
	addrBurst    int
	trusted      []netip.Prefix
	mu           sync.Mutex // guards global, addrs and the budgets in them
	global       *budget
	addrs        *lru.Cache[netip.Addr, *budget]
	verifying    map[string]chan struct{}      // identities with an unvouched request in flight; closed when it settles
	refused      *lru.Cache[string, refusal]   // identity → when and how Plesk refused it
	accepted     *lru.Cache[string, time.Time] // identity → when Plesk last accepted it
	decisions    *prometheus.CounterVec
	logins       *prometheus.CounterVec
	rechecks     *prometheus.CounterVec
	addressesGau prometheus.GaugeFunc

	// The budgets shared by the replicas on one Redis; nil without Redis.
	shared       store.Budgets
	sharedPrefix string        // names this panel's budgets: its upstreamID, an HMAC of its endpoint
	secret       []byte        // keys caller addresses in budget names
	sharedHold   time.Duration // how long a held unit lives unsettled
	globalMax    int
	log          *zap.Logger
	sharedErrors prometheus.Counter
	sharedDown   atomic.Int64 // until when (Unix ns) Redis is not asked again after an error
}

// sharedPause is how long a replica goes on its own budgets after Redis
// failed it: a dead Redis costs one request a second its timeout, not
// every request.
const sharedPause = time.Second

// newShield's upstreamID names the panel its shared budgets belong to: the
// key the other shared state of this panel uses (Server.upstreamID), so
// that two spellings of one panel's URL share one budget.
func newShield(cfg Config, upstreamID string, lim shieldLimits, reg prometheus.Registerer) *shield {
	if lim.refused <= 0 {
		lim.refused = maxRefused
	}
	if lim.accepted <= 0 {
		lim.accepted = maxAccepted
	}
	if lim.addresses <= 0 {
		lim.addresses = maxAddresses
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	perAddr, global := cfg.AuthFailuresPerMinute, cfg.UpstreamAuthFailuresPerMinute
	if perAddr <= 0 {
		perAddr = defaultAddrBudget
	}
	if global <= 0 {
		global = defaultGlobalBudget
	}
	sh := &shield{now: now, perAddr: rate.Limit(float64(perAddr) / 60), addrBurst: perAddr, trusted: cfg.TrustedProxies,
		verifying: map[string]chan struct{}{}, globalMax: global, secret: cfg.StateSecret, log: cfg.Logger}
	if sh.log == nil {
		sh.log = zap.NewNop()
	}
	sh.shared, _ = store.RedisBudgetsFor(cfg.Idempotency)
	if cfg.Now != nil {
		sh.shared = store.OnCallerClock(sh.shared) // a test's clock, which Redis's does not follow
	}
	sh.sharedPrefix = upstreamID
	// A unit is held while its request is at the panel: every attempt of a
	// call may take the upstream timeout. Past its hold a unit lapses (a
	// replica that died holding it frees it then).
	timeout := cfg.Upstream.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	sh.sharedHold = max(budgetWindow, 3*timeout+10*time.Second)
	sh.global = &budget{lim: rate.NewLimiter(rate.Limit(float64(global)/60), global)}
	sh.addrs, _ = lru.New[netip.Addr, *budget](lim.addresses)
	sh.refused, _ = lru.New[string, refusal](lim.refused)
	sh.accepted, _ = lru.New[string, time.Time](lim.accepted)
	sh.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pleskgate_auth_shield_decisions_total",
		Help: "Failed-login shield decisions before any packet: recent (credentials Plesk accepted recently, no budget needed), budgeted (a token of both budgets held), refused_remembered (401, credentials Plesk just refused), limited_address and limited_upstream (429, a budget spent).",
	}, []string{"decision"})
	sh.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pleskgate_auth_shield_logins_total",
		Help: "What Plesk made of the credentials of requests that reached it: accepted, refused (a failed login, its token spent), unknown (no answer: timeout or broken connection; its token spent) or http_error (a bare HTTP error status, which judges no login; its token given back).",
	}, []string{"result"})
	sh.rechecks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pleskgate_auth_recheck_total",
		Help: "Cached answers and idempotent replays by how the credentials were vouched for: fresh (Plesk accepted them within PLESKGATE_AUTH_RECHECK), checked (a check packet passed) or refused (the check packet was refused: 401).",
	}, []string{"result"})
	for _, d := range []string{"recent", "budgeted", "refused_remembered", "limited_address", "limited_upstream"} {
		sh.decisions.WithLabelValues(d)
	}
	for _, r := range []string{"accepted", "refused", "unknown", "http_error"} {
		sh.logins.WithLabelValues(r)
	}
	for _, r := range []string{"fresh", "checked", "refused"} {
		sh.rechecks.WithLabelValues(r)
	}
	sh.addressesGau = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pleskgate_auth_shield_addresses",
		Help: "Caller addresses with a failed-login budget of their own (bounded).",
	}, func() float64 { return float64(sh.addrs.Len()) })
	sh.sharedErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "pleskgate_auth_shield_shared_errors_total",
		Help: "Requests whose failed-login budgets could not be taken or settled in Redis: they went on with this replica's own budgets.",
	})
	reg.MustRegister(sh.decisions, sh.logins, sh.rechecks, sh.addressesGau, sh.sharedErrors)
	return sh
}

// ParseTrustedProxies reads PLESKGATE_TRUSTED_PROXIES: comma-separated
// CIDRs (a bare address is one host). The caller names the setting in
// the error.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an IP address", part)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (sh *shield) isTrusted(a netip.Addr) bool {
	for _, p := range sh.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads one address: a bare IP, or IP:port / [IPv6]:port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// callerAddress is the address whose budget a request spends: the TCP
// peer, or, when the peer is a trusted proxy, the right-most hop of
// X-Forwarded-For that is not itself a trusted proxy (hops further left
// were written by whoever the proxies talked to, and may be forged). An
// unreadable hop ends the walk at the last trusted one. IPv6 callers are
// budgeted per /64: one host easily holds a whole /64.
func (sh *shield) callerAddress(r *http.Request) netip.Addr {
	peer, ok := parseHop(r.RemoteAddr)
	if !ok {
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			peer, ok = parseHop(host)
		}
	}
	if !ok {
		return netip.Addr{}
	}
	addr := peer
	if sh.isTrusted(peer) {
		hops := r.Header.Values("X-Forwarded-For")
	walk:
		for i := len(hops) - 1; i >= 0; i-- {
			parts := strings.Split(hops[i], ",")
			for j := len(parts) - 1; j >= 0; j-- {
				a, ok := parseHop(parts[j])
				if !ok {
					break walk
				}
				addr = a
				if !sh.isTrusted(a) {
					break walk
				}
			}
		}
	}
	if addr.Is6() {
		addr = netip.PrefixFrom(addr, 64).Masked().Addr()
	}
	return addr
}

// refusal is Plesk's refusal of an identity: when, and what it said (the
// problem repeats it, so a caller sees the same 401 either way).
type refusal struct {
	at   time.Time
	code int
	text string
}

// ticket is what admit lets a request through with: the tokens it holds.
type ticket struct {
	identity string
	recent   bool // accepted recently: no tokens held
	addr     *budget
	unit     string   // the unit held in the shared budgets; "" when none
	keys     []string // the shared budgets' keys
}

// admit decides before any packet. It returns the ticket to settle, or the
// 401 or 429 to answer at once, or, when a request with the same
// credentials is already being judged by Plesk, a channel closed once it
// is: the same unvouched credentials never travel twice at once, so N
// concurrent requests with one wrong password cost one failed login.
func (sh *shield) admit(ctx context.Context, identity string, addr netip.Addr) (ticket, <-chan struct{}, error) {
	now := sh.now()
	if r, ok := sh.refused.Get(identity); ok {
		if now.Sub(r.at) < refusedFor {
			sh.decisions.WithLabelValues("refused_remembered").Inc()
			// Plesk's own answer, remembered: the status, code and text
			// are what a packet would have brought back.
			return ticket{}, nil, &translator.Error{Code: r.code, Text: r.text, System: true}
		}
		sh.refused.Remove(identity)
	}
	if at, ok := sh.accepted.Get(identity); ok && now.Sub(at) < acceptedFor {
		sh.decisions.WithLabelValues("recent").Inc()
		return ticket{identity: identity, recent: true}, nil, nil
	}
	sh.mu.Lock()
	if wait, ok := sh.verifying[identity]; ok {
		sh.mu.Unlock()
		return ticket{}, wait, nil
	}
	a, ok := sh.addrs.Get(addr)
	if !ok {
		a = &budget{lim: rate.NewLimiter(sh.perAddr, sh.addrBurst)}
		sh.addrs.Add(addr, a)
	}
	if a.free(now) < 1 {
		wait := a.wait(now)
		sh.mu.Unlock()
		return ticket{}, nil, sh.limited(0, wait)
	}
	if sh.global.free(now) < 1 {
		wait := sh.global.wait(now)
		sh.mu.Unlock()
		return ticket{}, nil, sh.limited(1, wait)
	}
	a.held++
	sh.global.held++
	sh.verifying[identity] = make(chan struct{})
	sh.mu.Unlock()
	t := ticket{identity: identity, addr: a}
	if err := sh.holdShared(ctx, &t, addr, now); err != nil {
		sh.mu.Lock()
		sh.release(t)
		sh.mu.Unlock()
		return ticket{}, nil, err
	}
	sh.decisions.WithLabelValues("budgeted").Inc()
	return t, nil, nil
}

// limited is the 429 of a spent budget: 0 the address's, 1 the global one.
func (sh *shield) limited(which int, wait time.Duration) error {
	if which == 0 {
		sh.decisions.WithLabelValues("limited_address").Inc()
		return errTooManyFailedLogins(wait, "this address")
	}
	sh.decisions.WithLabelValues("limited_upstream").Inc()
	return errTooManyFailedLogins(wait, "all callers together")
}

// holdShared takes a unit of the address's and the global shared budget
// for t, or answers the 429 of the one that is spent. Without Redis, or
// when Redis fails, t goes on with the replica's own budgets alone.
func (sh *shield) holdShared(ctx context.Context, t *ticket, addr netip.Addr, now time.Time) error {
	if sh.shared == nil || time.Now().UnixNano() < sh.sharedDown.Load() {
		return nil
	}
	addrKey := store.BudgetKey(sh.sharedPrefix + ":addr:" + upstream.Keyed(sh.secret, "address", addr.String()))
	allKey := store.BudgetKey(sh.sharedPrefix + ":all")
	unit := store.NewUnitID()
	full, wait, err := sh.shared.Hold(ctx, unit, []store.Budget{{Key: addrKey, Max: sh.addrBurst}, {Key: allKey, Max: sh.globalMax}}, now, sh.sharedHold)
	if err != nil {
		if ctx.Err() != nil {
			// The caller left while Redis was asked: not Redis's failure,
			// or a caller could switch the shared budgets off by hanging up.
			return context.Cause(ctx)
		}
		sh.sharedFailed("taking", err)
		return nil
	}
	if full >= 0 {
		return sh.limited(full, min(wait, budgetWindow))
	}
	t.unit, t.keys = unit, []string{addrKey, allKey}
	return nil
}

func (sh *shield) sharedFailed(doing string, err error) {
	sh.sharedErrors.Inc()
	sh.sharedDown.Store(time.Now().Add(sharedPause).UnixNano())
	sh.log.Warn("failed-login budgets in Redis unavailable; this replica's own budgets apply", zap.String("doing", doing), zap.Error(err))
}

// release gives back t's local tokens and wakes the requests waiting for
// its identity; sh.mu is held.
func (sh *shield) release(t ticket) {
	t.addr.held--
	sh.global.held--
	close(sh.verifying[t.identity])
	delete(sh.verifying, t.identity)
}

// loginResult is what Plesk made of a request's credentials.
type loginResult int

const (
	loginNotAsked loginResult = iota // no packet reached Plesk for this request
	loginAccepted
	loginRefused
	loginUnknown   // a packet went and no answer came back (timeout, broken connection)
	loginHTTPError // the panel answered a bare HTTP error status: it judged no login
)

// settle gives back or spends the ticket's tokens and remembers the result;
// refused is Plesk's refusal when res is loginRefused. A spent ticket
// costs packets failed logins (at least one): every packet sent with
// unproven credentials counts.
func (sh *shield) settle(ctx context.Context, t ticket, res loginResult, refused refusal, packets int) {
	now := sh.now()
	n := max(packets, 1)
	switch res {
	case loginAccepted:
		sh.logins.WithLabelValues("accepted").Inc()
		sh.accepted.Add(t.identity, now)
		sh.refused.Remove(t.identity)
	case loginRefused:
		sh.logins.WithLabelValues("refused").Inc()
		refused.at = now
		sh.refused.Add(t.identity, refused)
		sh.accepted.Remove(t.identity)
	case loginUnknown:
		sh.logins.WithLabelValues("unknown").Inc()
	case loginHTTPError:
		sh.logins.WithLabelValues("http_error").Inc()
	}
	spend := res == loginRefused || res == loginUnknown
	// Settled after the answer was written, whether or not the caller is
	// still there: the budgets must learn the outcome.
	ctx = context.WithoutCancel(ctx)
	if t.recent {
		// No token was held. A login accepted until moments ago that now
		// fails (its password changed) is charged as debt, so the budgets
		// stay right over time.
		if res == loginRefused {
			sh.mu.Lock()
			spendTokens(sh.global.lim, now, n)
			sh.mu.Unlock()
			if sh.shared != nil && time.Now().UnixNano() >= sh.sharedDown.Load() {
				allKey := store.BudgetKey(sh.sharedPrefix + ":all")
				if err := sh.shared.Spend(ctx, store.NewUnitID(), n, []string{allKey}, now, budgetWindow); err != nil {
					sh.sharedFailed("spending", err)
				}
			}
		}
		return
	}
	sh.mu.Lock()
	sh.release(t)
	if spend {
		// The token was free when the request was let through and held
		// since, so this spends it at once (further packets as debt).
		spendTokens(t.addr.lim, now, n)
		spendTokens(sh.global.lim, now, n)
	}
	sh.mu.Unlock()
	if t.unit == "" {
		return
	}
	var err error
	if spend {
		err = sh.shared.Spend(ctx, t.unit, n, t.keys, now, budgetWindow)
	} else {
		err = sh.shared.Release(ctx, t.unit, t.keys)
	}
	if err != nil {
		sh.sharedFailed("settling", err)
	}
}

// spendTokens takes n tokens of lim at now, into debt if need be; one at a
// time, since ReserveN refuses (and takes nothing) above the burst.
func spendTokens(lim *rate.Limiter, now time.Time, n int) {
	for range n {
		lim.ReserveN(now, 1)
	}
}

// acceptedWithin says whether Plesk accepted identity within d.
func (sh *shield) acceptedWithin(identity string, d time.Duration) bool {
	at, ok := sh.accepted.Peek(identity)
	return ok && sh.now().Sub(at) < d
}

func errTooManyFailedLogins(wait time.Duration, whose string) *Error {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	h := http.Header{}
	h.Set("Retry-After", strconv.Itoa(secs))
	return &Error{Status: http.StatusTooManyRequests, Slug: "too-many-failed-logins", Title: "Too many failed logins",
		Detail: "Plesk refused too many logins from " + whose + " within a minute; credentials it has not accepted recently are not sent until Retry-After seconds have passed",
		Header: h}
}

// isAuthCode says whether a Plesk error code refuses the credentials
// themselves (the codes pleskStatus maps to 401).
func isAuthCode(code int) bool {
	switch code {
	case translator.CodeAuthFailed, translator.CodeUnknownAuthMethod, translator.CodeSecretKeyInvalid:
		return true
	}
	return false
}

// loginResultOf reads what Plesk made of the credentials from the request's
// state once its answer was written: the Plesk error code of the problem,
// the packets sent and the status; httpError says the request failed on a
// bare HTTP error status from the panel (or an answer too large to read).
//
// Only Plesk's authentication error codes are a failed login. A bare HTTP
// error (a 413 from the panel's web server, a 5xx) judges no login, so it
// spends nothing: a panel incident must not lock out callers the panel
// never refused. A timeout or a broken connection after the packet went
// is unknown and spends: the panel may have refused the login before the
// answer was lost, and its fail2ban counts it either way.
func loginResultOf(st *reqState, status int, httpError bool) loginResult {
	switch {
	case st.hasErrcode && isAuthCode(st.errcode):
		return loginRefused // this identity's packet was refused (its own, or one it shared: coalescing is per identity)
	case st.packets.Load() == 0:
		return loginNotAsked // e.g. a 501 quoting a remembered legacy refusal: Plesk judged nothing
	case httpError && !st.hasErrcode:
		return loginHTTPError
	case st.hasErrcode:
		return loginAccepted // Plesk answered past its authentication check
	case status < 500 && status != http.StatusUnauthorized && status != 499:
		return loginAccepted
	default:
		return loginUnknown
	}
}

// shieldLogins runs the shield around an authenticated request: before
// any packet, the refusal memory and the budgets; after the answer is
// written, what Plesk made of the credentials. Requests that carry none
// pass on.
func (s *Server) shieldLogins(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		st := stateOf(c)
		if st.route == nil || !st.route.needsAuth {
			return next(c)
		}
		return s.shielded(c, st, next)
	}
}

// shielded is shieldLogins for a request with credentials.
func (s *Server) shielded(c echo.Context, st *reqState, next echo.HandlerFunc) error {
	addr := s.shield.callerAddress(c.Request())
	var t ticket
	for {
		var wait <-chan struct{}
		var err error
		if t, wait, err = s.shield.admit(c.Request().Context(), identityFrom(c.Request().Context()), addr); err != nil {
			return err
		}
		if wait == nil {
			break
		}
		select {
		case <-wait: // the other request settled: decide again
		case <-c.Request().Context().Done():
			return c.Request().Context().Err()
		}
	}
	res, why := loginUnknown, refusal{} // a panic on the way: spend
	defer func() { s.shield.settle(c.Request().Context(), t, res, why, int(st.packets.Load())) }()
	var perr *translator.Error
	httpError := false
	if err := next(c); err != nil {
		errors.As(err, &perr)
		var uerr *upstream.Error
		httpError = errors.As(err, &uerr) && (uerr.Kind == upstream.BadStatus || uerr.Kind == upstream.TooLarge)
		c.Error(err) // render now, so its Plesk code is known
	}
	res = loginResultOf(st, c.Response().Status, httpError)
	if res == loginRefused {
		why.code = st.errcode
		if perr != nil && perr.Code == st.errcode {
			why.text = perr.Text
		}
	}
	return nil
}

// recheckAuth vouches for the caller's credentials before a cached answer
// or a replay is given (DESIGN.md §5): Plesk accepted them within
// PLESKGATE_AUTH_RECHECK, or one check packet, server/get_protos, passes
// now. get_protos is the cheapest packet that still runs Plesk's
// authentication check (PROTOCOL.md §1.3: the credentials are checked
// before anything executes, 1001/11003 when wrong) and executes nothing;
// the gateway already sends it to learn versions and for /meta.
func (s *Server) recheckAuth(ctx context.Context) error {
	id := identityFrom(ctx)
	if s.shield.acceptedWithin(id, s.cfg.AuthRecheck) {
		s.shield.rechecks.WithLabelValues("fresh").Inc()
		return nil
	}
	if _, err := s.upstream.Protos(ctx, credentialsFrom(ctx)); err != nil {
		var pe *translator.Error
		if errors.As(err, &pe) && isAuthCode(pe.Code) {
			s.shield.rechecks.WithLabelValues("refused").Inc()
		}
		return err
	}
	s.shield.rechecks.WithLabelValues("checked").Inc()
	s.shield.accepted.Add(id, s.shield.now())
	return nil
}

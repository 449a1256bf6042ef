package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/translator"
)

// defaultLegacyRetry is how long a refusal of the legacy operator is believed
// before a legacy packet is sent again (PLESKGATE_LEGACY_RETRY).
const defaultLegacyRetry = 10 * time.Minute

// legacyGuard is "When a panel refuses the legacy operator" (DESIGN.md §2)
// for one upstream. When a packet in the legacy dialect is refused in a way
// translator.LegacyRefusal recognises (a system error, or the result-level
// 1017 of Plesk 17.8 on, see answered), it is remembered (in store, shared by
// replicas with Redis) until retry has passed; meanwhile every packet in that
// version is answered at once with a 501 and not sent.
//
// A record learned before this process started is not believed: a gateway
// tries the legacy operator again at start-up, and its answer (a new refusal,
// or success) is what it then goes by.
type legacyGuard struct {
	store    store.LegacyStore
	upstream string // key of the record: a short hash of the upstream URL
	retry    time.Duration
	started  time.Time
	now      func() time.Time // the clock; tests replace it
	log      *zap.Logger

	// last is the record the last check or refusal saw in force (nil: none),
	// for the metric.
	last atomic.Pointer[store.LegacyRecord]
	// stored: the store held a record at the last check, in force or not,
	// so a legacy packet that goes through should remove it.
	stored atomic.Bool
}

func newLegacyGuard(ls store.LegacyStore, upstream string, retry time.Duration, log *zap.Logger, reg prometheus.Registerer) *legacyGuard {
	if ls == nil {
		ls = store.NewMemoryLegacyStore()
	}
	if retry <= 0 {
		retry = defaultLegacyRetry
	}
	g := &legacyGuard{store: ls, upstream: upstream, retry: retry, now: time.Now, log: log}
	g.started = g.now()
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pleskgate_upstream_legacy_refused",
		Help: "1 while the upstream is known to refuse the legacy client operator (its operations answer 501 without a packet), else 0.",
	}, func() float64 {
		if r := g.last.Load(); r != nil && g.now().Before(r.Until) {
			return 1
		}
		return 0
	}))
	return g
}

// refusal returns the record in force for packets at v, if any.
func (g *legacyGuard) refusal(ctx context.Context, v translator.Version) (*store.LegacyRecord, bool) {
	if v.Dialect() != translator.DialectClient {
		return nil, false
	}
	r, ok, err := g.store.Get(ctx, g.upstream)
	if err != nil {
		// Not knowing is not a refusal: the packet goes, and a refusal is
		// learned again if there is one.
		g.log.Warn("legacy operator record unreadable; sending the packet", zap.Error(err))
		return nil, false
	}
	g.stored.Store(ok)
	now := g.now()
	if !ok || r.LearnedAt.Before(g.started) || !now.Before(r.Until) {
		g.last.Store(nil)
		return nil, false
	}
	g.last.Store(&r)
	return &r, r.Version == v.String()
}

// check answers a request for ops at v: a *legacyRefusedError when the
// upstream is known to refuse the legacy operator at v, else nil.
func (g *legacyGuard) check(ctx context.Context, v translator.Version, ops []translator.Operation) error {
	r, ok := g.refusal(ctx, v)
	if !ok {
		return nil
	}
	return &legacyRefusedError{rec: *r, ops: ops}
}

// checkRequests is check for the operations of reqs.
func (g *legacyGuard) checkRequests(ctx context.Context, v translator.Version, reqs []translator.Request) error {
	if v.Dialect() != translator.DialectClient {
		return nil
	}
	return g.check(ctx, v, requestOps(reqs))
}

// learn looks at err, the answer to reqs sent at v. A refusal of the legacy
// operator is remembered and returned as a *legacyRefusedError; any other
// err is returned as it is.
func (g *legacyGuard) learn(ctx context.Context, v translator.Version, reqs []translator.Request, err error) error {
	perr, ok := translator.LegacyRefusal(v, err)
	if !ok {
		return err
	}
	ops := requestOps(reqs)
	now := g.now()
	rec := store.LegacyRecord{Version: v.String(), Code: perr.Code, Text: perr.Text, LearnedAt: now, Until: now.Add(g.retry)}
	if len(ops) > 0 {
		rec.Operation = string(ops[0])
	}
	g.stored.Store(true)
	if err := g.store.Put(ctx, g.upstream, rec); err != nil {
		g.log.Warn("legacy operator refusal not shared", zap.Error(err))
	}
	g.last.Store(&rec)
	g.log.Warn("the panel refuses the legacy client operator; its operations answer 501 until the retry",
		zap.String("version", rec.Version), zap.String("operation", rec.Operation), zap.Int("plesk_errcode", rec.Code),
		zap.String("plesk_errtext", rec.Text), zap.Time("retry_at", rec.Until))
	return &legacyRefusedError{rec: rec, ops: ops}
}

// answered looks at replies, the decoded answer to reqs sent at v. When
// their results refuse the legacy operator (translator.LegacyRefusalIn: the
// result-level 1017 naming the version that Plesk 17.8 answers, REC-3), it
// is learned as learn does and returned as a *legacyRefusedError, so that
// it costs this one packet; otherwise the packet went through (succeeded).
func (g *legacyGuard) answered(ctx context.Context, v translator.Version, reqs []translator.Request, replies []translator.Reply) error {
	if perr, ok := translator.LegacyRefusalIn(v, replies); ok {
		return g.learn(ctx, v, reqs, perr)
	}
	g.succeeded(ctx, v)
	return nil
}

// succeeded notes that a packet at v went through. When the store held a
// refusal (one this gateway did not believe, being newer, or one whose
// retry time had come), it is removed, so that replicas stop answering 501
// before their own retry.
func (g *legacyGuard) succeeded(ctx context.Context, v translator.Version) {
	if v.Dialect() != translator.DialectClient || !g.stored.Load() {
		return
	}
	g.stored.Store(false)
	g.last.Store(nil)
	if err := g.store.Delete(ctx, g.upstream); err != nil {
		g.log.Warn("legacy operator record not removed", zap.Error(err))
		return
	}
	g.log.Info("the panel takes the legacy client operator again", zap.String("version", v.String()))
}

// legacyRefusedError is the 501 for an operation sent only in the legacy
// operator, which the panel refuses.
type legacyRefusedError struct {
	rec store.LegacyRecord
	ops []translator.Operation
}

func (e *legacyRefusedError) opNames() string {
	names := make([]string, len(e.ops))
	for i, op := range e.ops {
		names[i] = string(op)
	}
	return strings.Join(names, ", ")
}

func (e *legacyRefusedError) Error() string {
	return fmt.Sprintf("the panel refuses the legacy client operator at protocol %s, so %s cannot be sent (Plesk error %d, learned %s, tried again after %s): %s",
		e.rec.Version, e.opNames(), e.rec.Code, e.rec.LearnedAt.UTC().Format(time.RFC3339), e.rec.Until.UTC().Format(time.RFC3339), e.rec.Text)
}

// problem is the 501 legacy-operator-refused, quoting the panel.
func (e *legacyRefusedError) problem() Problem {
	code, text := e.rec.Code, e.rec.Text
	return Problem{
		Type: problemType("legacy-operator-refused"), Title: "The Plesk server refuses the legacy client operator",
		Status: http.StatusNotImplemented, Detail: e.Error(), PleskErrcode: &code, PleskErrtext: &text,
	}
}

// legacyRefusalOf returns the *legacyRefusedError in err, if any.
func legacyRefusalOf(err error) (*legacyRefusedError, bool) {
	var le *legacyRefusedError
	ok := errors.As(err, &le)
	return le, ok
}

// requestOps lists the operations of reqs, as their Op values name them.
func requestOps(reqs []translator.Request) []translator.Operation {
	ops := make([]translator.Operation, len(reqs))
	for i, r := range reqs {
		ops[i] = r.Op().Name()
	}
	return ops
}

package upstream

import (
	"context"
	"sync"
	"sync/atomic"
)

// A sendGate decides, once, between a detached packet going out and the
// caller that asked for it leaving first. Whichever comes first wins: a
// caller that leaves first is told nothing was sent, and nothing is; a
// packet that goes first is counted (Config.OnAttempt, on the caller's
// context) before the caller, leaving, is told it went. So a caller never
// returns believing nothing was sent while its packet reaches the panel:
// the gateway's failed-login budget and its idempotency records both read
// that belief.
type sendGate struct {
	state   atomic.Int32 // gatePending, gateSending or gateLeft
	once    sync.Once
	counted chan struct{} // closed once the first attempt was counted
}

const (
	gatePending int32 = iota
	gateSending
	gateLeft
)

func newSendGate() *sendGate { return &sendGate{counted: make(chan struct{})} }

// open is the sender's side: false when the caller left first (or its
// context has ended), and then nothing may be sent.
func (g *sendGate) open(ctx context.Context) bool {
	if ctx.Err() != nil {
		g.state.CompareAndSwap(gatePending, gateLeft)
	}
	return g.state.CompareAndSwap(gatePending, gateSending)
}

// leave is the caller's side, when its context ended: true when nothing was
// or will be sent; false once the packet went, after it was counted.
func (g *sendGate) leave() bool {
	if g.state.CompareAndSwap(gatePending, gateLeft) {
		return true
	}
	if g.state.Load() == gateLeft {
		return true
	}
	<-g.counted
	return false
}

// sent reports whether the packet went (or is going).
func (g *sendGate) sent() bool { return g.state.Load() == gateSending }

// markCounted is called by post once it counted an attempt.
func (g *sendGate) markCounted() { g.once.Do(func() { close(g.counted) }) }

type gateKey struct{}

// withGate puts g on the context post sends on, so the first count opens it.
func withGate(ctx context.Context, g *sendGate) context.Context {
	return context.WithValue(ctx, gateKey{}, g)
}

func gateFrom(ctx context.Context) *sendGate {
	g, _ := ctx.Value(gateKey{}).(*sendGate)
	return g
}

package upstream

import (
	"context"
	"errors"
	"sync/atomic"
)

// sendHeld sends a packet. Identical read-only packets in flight for the
// same credentials share one upstream call (golang.org/x/sync/singleflight),
// keyed on the caller's identity (Credentials.Caller, or Identity under
// Config.IdentitySecret) plus the packet bytes, so that no answer is ever
// shared across identities. Writes are never coalesced.
//
// A read's flight runs in a goroutine of its own (singleflight's DoChan;
// under admission sendAdmitted started one per packet anyway), admitted on
// the context of the caller that started it and sent on one detached from
// that caller's cancellation (each attempt still ends at Config.Timeout;
// fly). Every caller, the first included, waits for the flight's answer or
// for its own context, whichever comes first: a caller that leaves gets its
// context's error at once, and the others get the answer the panel is
// already producing, not a second packet (PHP finishes a packet after its
// client leaves). Only a flight that ended without an answer because the
// caller that started it left (while it waited for a slot, or before a
// retry: errFirstCallerLeft) is flown again for those still there.
//
// The answer's bytes are shared by every caller of the flight and must not
// be modified. They come reserved in the answer budget until the caller
// calls the answer's done, once decoded: the first caller to take the
// answer keeps the reservation of its read, the others (each decoding a
// second copy of the same bytes) reserve again (whileDecoding).
func (u *Client) sendHeld(ctx context.Context, creds Credentials, packet []byte, readOnly bool) (answer, error) {
	identity := creds.Caller
	if identity == "" {
		identity = creds.Identity(u.secret)
	}
	if !readOnly {
		return u.sendAdmitted(ctx, creds, identity, packet, false)
	}
	if !creds.sendable() {
		return answer{}, unsent(ErrUnsendableCredentials) // before admission and the breaker: nothing was sent
	}
	key := identity + "\x00" + string(packet)
	for {
		if joiningHook != nil {
			joiningHook()
		}
		ch := u.flight.DoChan(key, func() (any, error) {
			f := &flown{gate: newSendGate(), starter: ctx.Done()}
			u.flying.Store(key, f)
			defer u.flying.Delete(key)
			ans, err := u.fly(ctx, creds, identity, packet, f)
			f.ans = ans
			return f, err
		})
		select {
		case r := <-ch:
			f := r.Val.(*flown)
			if ctx.Err() != nil {
				f.drop()
				return answer{}, f.leftErr(ctx)
			}
			if r.Err != nil {
				if errors.Is(r.Err, errFirstCallerLeft) {
					continue
				}
				return answer{}, r.Err
			}
			if f.claimed.CompareAndSwap(false, true) {
				return f.ans, nil
			}
			release, err := u.whileDecoding(ctx, f.ans.body)
			if err != nil {
				return answer{}, err
			}
			return answer{f.ans.body, release}, nil
		case <-ctx.Done():
			err := u.left(ctx, key)
			go func() { (<-ch).Val.(*flown).drop() }() // the answer's reservation, unless another caller takes it
			return answer{}, err
		}
	}
}

// left is the error of a caller that left its flight before it ended:
// its context's, marked unsent while the flight has not sent its packet;
// a deadline is a Timeout, as an attempt that ran out of time is. When the
// caller is the one that started the flight, its leaving and the packet
// going are decided once (sendGate): it never returns "unsent" for a packet
// that then reaches the panel.
func (u *Client) left(ctx context.Context, key string) error {
	v, ok := u.flying.Load(key)
	if !ok {
		return unsent(ctx.Err()) // not started yet: it will find ctx ended and send nothing
	}
	f := v.(*flown)
	if f.starter == ctx.Done() && f.gate.leave() {
		return unsent(ctx.Err())
	}
	return f.leftErr(ctx)
}

// leftErr is the error of a caller of f whose context ended.
func (f *flown) leftErr(ctx context.Context) error {
	err := ctx.Err()
	if !f.gate.sent() {
		return unsent(err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: Timeout, Err: causeOf(err)}
	}
	return err
}

// flown is a flight's answer, shared by its callers: the first to claim it
// keeps its reservation in the answer budget.
type flown struct {
	ans     answer
	gate    *sendGate       // whether the packet went, decided against its starter leaving
	starter <-chan struct{} // the Done of the context that started the flight
	claimed atomic.Bool
}

// drop gives the answer's bytes back unless a caller took them.
func (f *flown) drop() {
	if f.claimed.CompareAndSwap(false, true) {
		f.ans.done()
	}
}

// errFirstCallerLeft: a read's flight ended without an answer because the
// caller that started it left: while it waited for a slot, or before
// retrying a failed attempt (a caller that has gone gets no retries). The
// flight's other callers fly it again.
var errFirstCallerLeft = errors.New("the request that started this read went away")

type firstCallerLeft struct{ err error }

func (e *firstCallerLeft) Error() string   { return e.err.Error() }
func (e *firstCallerLeft) Unwrap() []error { return []error{e.err, errFirstCallerLeft} }

// fly sends a read for its flight: admitted on the first caller's context
// (admitInTime), then sent on a context detached from its cancellation,
// holding the slot until the panel answered or the attempt timed out.
func (u *Client) fly(ctx context.Context, creds Credentials, identity string, packet []byte, f *flown) (answer, error) {
	if u.admit != nil {
		slot, err := u.admitInTime(ctx, identity)
		if err != nil {
			if ctx.Err() != nil {
				return answer{}, &firstCallerLeft{unsent(err)}
			}
			return answer{}, unsent(err)
		}
		if !f.gate.open(ctx) {
			slot.giveBack() // the caller that started it left before its packet went
			return answer{}, &firstCallerLeft{unsent(context.Cause(ctx))}
		}
		defer slot.release()
	} else if !f.gate.open(ctx) {
		return answer{}, &firstCallerLeft{unsent(context.Cause(ctx))}
	}
	defer f.gate.markCounted() // also when no attempt reached post (an open breaker)
	ans, err := u.attempts(ctx, withGate(context.WithoutCancel(ctx), f.gate), creds, packet, true)
	if err != nil && ctx.Err() != nil && retryable(err) {
		err = &firstCallerLeft{err}
	}
	return ans, err
}

// send is sendHeld for a caller that keeps no answer bytes: their
// reservation ends at once.
func (u *Client) send(ctx context.Context, creds Credentials, packet []byte, readOnly bool) ([]byte, error) {
	ans, err := u.sendHeld(ctx, creds, packet, readOnly)
	ans.done()
	return ans.body, err
}

// joiningHook, set by tests only, runs just before a caller joins or starts
// a flight.
var joiningHook func()

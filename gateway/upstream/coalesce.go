package upstream

import (
	"context"
	"errors"
)

// send sends a packet. Identical read-only packets in flight for the same
// credentials share one upstream call (golang.org/x/sync/singleflight),
// keyed on the caller's identity (Credentials.Caller, or Identity under
// Config.IdentitySecret) plus the packet bytes, so that no answer
// is ever shared across identities. Writes are never coalesced.
//
// The answer's bytes are shared by every caller of the flight and must not
// be modified. A caller whose flight ended because its leader's caller went
// away (cancelled or past its deadline: leaderLeft), while its own context
// is alive, sends again: the leader's end is not its answer.
//
// The leader sends in its own goroutine (singleflight's Do, not DoChan, which
// starts a goroutine per call and, with it, a new stack that grows through
// the whole HTTP client: a tenth of a read's CPU). A follower therefore
// waits for the leader's answer even if its own caller has gone. That wait
// is bounded by the leader's attempts, not by any caller's deadline: the
// admission wait, Config.Timeout per attempt, and for retries a budget of
// twice Config.Timeout.
//
// Under admission the leader's packet runs on a context detached from its
// caller (sendAdmitted): when that caller leaves, the leader returns its
// context's error at once while the packet finishes in the background,
// holding its slot, and the followers send again. (One detached flight that
// every caller waits on, DoChan, would spare that second packet, but it
// loses whether a leaving caller's packet was still queued: left for now.)
//
// The answer comes with its bytes reserved in the answer budget until the
// caller calls its done, once decoded: the leader's from its read on, a
// follower's (a second decoding of the same bytes) from when it joins
// again (whileDecoding).
func (u *Client) sendHeld(ctx context.Context, creds Credentials, packet []byte, readOnly bool) (answer, error) {
	identity := creds.Caller
	if identity == "" {
		identity = creds.Identity(u.secret)
	}
	if !readOnly {
		return u.sendAdmitted(ctx, creds, identity, packet, false)
	}
	key := identity + "\x00" + string(packet)
	for {
		if joiningHook != nil {
			joiningHook()
		}
		led := false
		v, err, shared := u.flight.Do(key, func() (any, error) {
			led = true
			ans, err := u.sendAdmitted(ctx, creds, identity, packet, true)
			if err != nil && ctx.Err() != nil {
				err = &leaderLeft{err}
			}
			return ans, err
		})
		ans, _ := v.(answer)
		var left *leaderLeft
		if err != nil && shared && !led && ctx.Err() == nil && errors.As(err, &left) {
			continue
		}
		if err == nil && ctx.Err() != nil {
			if led {
				ans.done()
			}
			return answer{}, ctx.Err()
		}
		if err != nil || led {
			return ans, err
		}
		release, err := u.whileDecoding(ctx, ans.body)
		if err != nil {
			return answer{}, err
		}
		return answer{ans.body, release}, nil
	}
}

// send is sendHeld for a caller that keeps no answer bytes: their
// reservation ends at once.
func (u *Client) send(ctx context.Context, creds Credentials, packet []byte, readOnly bool) ([]byte, error) {
	ans, err := u.sendHeld(ctx, creds, packet, readOnly)
	ans.done()
	return ans.body, err
}

// leaderLeft is the error of a flight that ended because its leader's
// caller went away (cancelled, or past its deadline): it is that caller's
// error, and says nothing of the answer the followers wait for.
type leaderLeft struct{ err error }

func (e *leaderLeft) Error() string { return e.err.Error() }
func (e *leaderLeft) Unwrap() error { return e.err }

// joiningHook, set by tests only, runs just before a caller joins or starts
// a flight.
var joiningHook func()

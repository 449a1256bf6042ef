package upstream

import (
	"context"
	"errors"
)

// send sends a packet. Identical read-only packets in flight for the same
// credentials share one upstream call (golang.org/x/sync/singleflight),
// keyed on the caller's identity plus the packet bytes, so that no answer
// is ever shared across identities. Writes are never coalesced.
//
// The answer's bytes are shared by every caller of the flight and must not
// be modified. A caller whose flight ended because its leader's caller went
// away, while its own context is alive, sends again.
func (u *Client) send(ctx context.Context, creds Credentials, packet []byte, readOnly bool) ([]byte, error) {
	identity := creds.Identity(u.secret)
	if !readOnly {
		return u.sendAdmitted(ctx, creds, identity, packet, false)
	}
	key := identity + "\x00" + string(packet)
	for {
		ch := u.flight.DoChan(key, func() (any, error) {
			return u.sendAdmitted(ctx, creds, identity, packet, true)
		})
		if joinedHook != nil {
			joinedHook()
		}
		select {
		case r := <-ch:
			if r.Err != nil && r.Shared && ctx.Err() == nil && errors.Is(r.Err, context.Canceled) {
				continue
			}
			body, _ := r.Val.([]byte)
			return body, r.Err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// joinedHook, set by tests only, runs once the caller has joined a flight.
var joinedHook func()

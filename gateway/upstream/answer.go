package upstream

import (
	"context"
	"io"
	"net/http"
)

// The answer bounds of DESIGN.md §7: the bytes of panel answers being
// read or decoded, per answer and in all.

// answer is a panel's answer and what gives its bytes back to the answer
// budget: they stay reserved from the read (readAnswer) until the answer is
// decoded, so answers read and waiting to be decoded count as those being
// read and decoded do.
type answer struct {
	body    []byte
	release func()
}

// done gives the answer's bytes back to the budget; once its decoding ended.
func (a answer) done() {
	if a.release != nil {
		a.release()
	}
}

// readAnswer reads resp's body under the answer bounds (DESIGN.md §7): at
// most maxBody bytes per answer, refused unread when Content-Length already
// says more, and at most the answer budget for all answers being read at
// once (golang.org/x/sync/semaphore; a reader waits for room within its
// attempt's timeout). The bytes stay reserved until release is called,
// once the answer is decoded (answer.done).
func (u *Client) readAnswer(ctx context.Context, resp *http.Response) (body []byte, release func(), err error) {
	var held int64
	release = func() {
		if held > 0 {
			u.budget.Release(held)
			held = 0
		}
	}
	reserve := func(total int64) error {
		if total <= held {
			return nil
		}
		if held > 0 {
			if u.budget.TryAcquire(total - held) {
				held = total
				return nil
			}
			// Waiting for more while holding part would deadlock readers
			// that each hold some of the budget and all want more: give
			// it back and wait for the whole new size. The bytes read so
			// far stay in memory meanwhile, unreserved.
			release()
		}
		if err := u.budget.Acquire(ctx, total); err != nil {
			return err
		}
		held = total
		return nil
	}
	if n := resp.ContentLength; n > u.maxBody {
		return nil, release, &Error{Kind: TooLarge}
	} else if n >= 0 {
		if err := reserve(n); err != nil {
			return nil, release, err
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			return nil, release, err
		}
		return buf, release, nil
	}
	// No length given: grow the buffer by doubling, reserving each size
	// before it is allocated, and refuse the answer past maxBody.
	buf := make([]byte, 0, min(64<<10, u.maxBody))
	if err := reserve(int64(cap(buf))); err != nil {
		return nil, release, err
	}
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) >= u.maxBody {
				var one [1]byte // an answer of exactly maxBody bytes ends here
				n, err := io.ReadFull(resp.Body, one[:])
				if n == 0 && err == io.EOF {
					return buf, release, nil
				}
				return nil, release, &Error{Kind: TooLarge}
			}
			// The old buffer is garbage once copied: only the new size is
			// reserved (an answer at the bound could never reserve both).
			next := min(2*int64(cap(buf)), u.maxBody)
			if err := reserve(next); err != nil {
				return nil, release, err
			}
			grown := make([]byte, len(buf), next)
			copy(grown, buf)
			buf = grown
		}
		n, err := resp.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF { // the buffer never grows past maxBody: the answer is within it
			return buf, release, nil
		}
		if err != nil {
			return nil, release, err
		}
	}
}

// whileDecoding reserves a coalesced answer's bytes in the answer budget
// again for a follower of its flight, which decodes a second copy of it,
// and returns what gives them back. Decoding costs several times the
// answer's bytes (a 50 MB answer of 71,000 clients peaked at 230 MiB), so
// answers being decoded count as those being read do: without it, three
// 50 MB answers were read one after the other under the budget and then
// decoded all at once. The leader decodes under the reservation of its
// read. A follower waits for room within its own deadline, and no later
// than the time it must be answered by (WithAnswerBy); a wait that ends so
// is a Timeout, but not a transport failure (notDecoded): the panel answered.
func (u *Client) whileDecoding(ctx context.Context, body []byte) (done func(), err error) {
	n := int64(len(body))
	if by, ok := answerBy(ctx); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, by)
		defer cancel()
	}
	if err := u.budget.Acquire(ctx, n); err != nil {
		return nil, &notDecoded{classifyTransport(ctx, err)}
	}
	return func() { u.budget.Release(n) }, nil
}

// notDecoded: an answer arrived well but its caller's time ran out waiting
// for room to decode it. It is no packet's outcome: the call that sent the
// packet records it (transportFailed).
type notDecoded struct{ err error }

func (e *notDecoded) Error() string { return e.err.Error() }
func (e *notDecoded) Unwrap() error { return e.err }

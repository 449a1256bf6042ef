package gateway

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/singleflight"

	"github.com/pleskgate/pleskgate/translator"
)

// Protocol decides which protocol version each operation is sent in
// (DESIGN.md §2, "One protocol version per operation").
//
// In auto mode it learns the server's versions once, with server/get_protos,
// and picks for each operation the newest listed version that has it. Pinned,
// it only ever uses the configured versions.
type Protocol struct {
	pinned *versionSet // nil in auto mode

	learned atomic.Pointer[versionSet] // in auto mode, once asked
	group   singleflight.Group
}

// versionSet is the versions to choose from, as listed and newest first.
type versionSet struct {
	listed, newestFirst []translator.Version
}

func newVersionSet(vs []translator.Version) *versionSet {
	sorted := slices.Clone(vs)
	slices.SortStableFunc(sorted, func(a, b translator.Version) int { return b.Compare(a) })
	return &versionSet{listed: vs, newestFirst: sorted}
}

func (p *Protocol) known() *versionSet {
	if p.pinned != nil {
		return p.pinned
	}
	return p.learned.Load()
}

// ParseProtocolSetting reads PLESKGATE_PROTOCOL: "auto", one version or a
// comma-separated list.
func ParseProtocolSetting(s string) (*Protocol, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "auto") {
		return &Protocol{}, nil
	}
	var vs []translator.Version
	for _, part := range strings.Split(s, ",") {
		v, err := translator.ParseVersion(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("PLESKGATE_PROTOCOL: %w", err)
		}
		if v.Parts() != 4 {
			return nil, fmt.Errorf("PLESKGATE_PROTOCOL: %q: pin full versions such as 1.6.9.1", part)
		}
		vs = append(vs, v)
	}
	return &Protocol{pinned: newVersionSet(vs)}, nil
}

// Mode is "auto" or "pinned".
func (p *Protocol) Mode() string {
	if p.pinned != nil {
		return "pinned"
	}
	return "auto"
}

// Known returns the versions to choose from without asking the server: the
// pinned ones, or those learned so far (nil before the first successful ask).
func (p *Protocol) Known() []translator.Version {
	if k := p.known(); k != nil {
		return k.listed
	}
	return nil
}

// Versions returns the versions to choose from, asking the server once in auto
// mode. A failed ask is not remembered: the next request asks again.
func (p *Protocol) Versions(ctx context.Context, ask func(context.Context) ([]translator.Version, error)) ([]translator.Version, error) {
	k, err := p.versionSet(ctx, ask)
	if err != nil {
		return nil, err
	}
	return k.listed, nil
}

// NewestFirst is Versions sorted newest first.
func (p *Protocol) NewestFirst(ctx context.Context, ask func(context.Context) ([]translator.Version, error)) ([]translator.Version, error) {
	k, err := p.versionSet(ctx, ask)
	if err != nil {
		return nil, err
	}
	return k.newestFirst, nil
}

func (p *Protocol) versionSet(ctx context.Context, ask func(context.Context) ([]translator.Version, error)) (*versionSet, error) {
	if k := p.known(); k != nil {
		return k, nil
	}
	learn := func(ctx context.Context) (*versionSet, error) {
		vs, err := ask(ctx)
		if err != nil {
			return nil, err
		}
		if len(vs) == 0 {
			return nil, fmt.Errorf("%w: get_protos listed no versions", translator.ErrMalformed)
		}
		k := newVersionSet(vs)
		p.learned.Store(k)
		return k, nil
	}
	led := false
	v, err, _ := p.group.Do("protos", func() (any, error) {
		led = true
		if k := p.known(); k != nil {
			return k, nil
		}
		// The shared ask outlives a caller that gives up.
		return learn(context.WithoutCancel(ctx))
	})
	if err != nil && !led {
		// Only successes are shared: the leader's credentials may have been
		// wrong where ours are right, so a follower asks again, as itself.
		// The leader never does: its ask was its own, and sending its
		// unproven credentials twice would be two failed logins against
		// one token of the shield's budgets (DESIGN.md §7).
		return learn(ctx)
	}
	if err != nil {
		return nil, err
	}
	return v.(*versionSet), nil
}

// unsupportedOperationError is the 501 for an operation no available version has.
type unsupportedOperationError struct {
	op    translator.Operation
	tried []translator.Version
	mode  string
}

func (e *unsupportedOperationError) Error() string {
	names := make([]string, len(e.tried))
	for i, v := range e.tried {
		names[i] = v.String()
	}
	return fmt.Sprintf("operation %s is not available in any protocol version %s (%s)", e.op, map[string]string{"auto": "the server lists", "pinned": "pinned by PLESKGATE_PROTOCOL"}[e.mode], strings.Join(names, ", "))
}

// pick chooses the version for op among vs.
func (p *Protocol) pick(vs []translator.Version, op translator.Operation) (translator.Version, error) {
	v, ok := translator.PickVersion(vs, op)
	if !ok {
		return translator.Version{}, &unsupportedOperationError{op: op, tried: vs, mode: p.Mode()}
	}
	return v, nil
}

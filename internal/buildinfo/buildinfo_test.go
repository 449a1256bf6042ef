package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	recorded := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261203-abcdef"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abcdef0"}, {Key: "vcs.modified", Value: "true"}}}, true
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	for _, c := range []struct {
		name            string
		version, commit string
		read            func() (*debug.BuildInfo, bool)
		want            Info
	}{
		{"ldflags win", "v1.2.0", "1234567", recorded, Info{"v1.2.0", "1234567", "go1.26.8"}},
		{"build info fills in", "", "", recorded, Info{"v0.0.0-20261203-abcdef", "abcdef0-dirty", "go1.26.8"}},
		{"nothing recorded", "", "", none, Info{"(devel)", "unknown", Get().GoVersion}},
	} {
		if got := resolve(c.version, c.commit, c.read); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	if s := (Info{"v1", "c0ffee", "go1.26.8"}).String("plesksim"); s != "plesksim v1 (commit c0ffee, go1.26.8)" {
		t.Errorf("String: %q", s)
	}
}

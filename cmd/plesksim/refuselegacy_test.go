package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseFlagsRefuseLegacy(t *testing.T) {
	o, err := parseFlags([]string{"--refuse-legacy"}, io.Discard)
	if err != nil || !o.cfg.RefuseLegacy {
		t.Fatalf("--refuse-legacy: %+v, %v", o.cfg, err)
	}
	if o, _ := parseFlags(nil, io.Discard); o.cfg.RefuseLegacy {
		t.Fatal("RefuseLegacy on by default")
	}
}

func TestParseFlagsRefuseLegacyResult1017(t *testing.T) {
	for _, c := range []struct {
		args           []string
		system, result bool
	}{
		{[]string{"--refuse-legacy=result-1017"}, false, true},
		{[]string{"--refuse-legacy=system-1014"}, true, false},
		{[]string{"--refuse-legacy"}, true, false},
		{[]string{"--refuse-legacy=off"}, false, false},
		{[]string{"--refuse-legacy", "--refuse-legacy=result-1017"}, false, true},
	} {
		o, err := parseFlags(c.args, io.Discard)
		if err != nil || o.cfg.RefuseLegacy != c.system || o.cfg.RefuseLegacyResult != c.result {
			t.Errorf("%v: RefuseLegacy=%v RefuseLegacyResult=%v, %v; want %v %v", c.args, o.cfg.RefuseLegacy, o.cfg.RefuseLegacyResult, err, c.system, c.result)
		}
	}
	if _, err := parseFlags([]string{"--refuse-legacy=1017"}, io.Discard); err == nil {
		t.Error("--refuse-legacy=1017 accepted")
	}
	var help strings.Builder
	_, _ = parseFlags([]string{"--help"}, &help)
	if !strings.Contains(help.String(), "result-1017") || !strings.Contains(help.String(), "17.8") {
		t.Errorf("--help does not explain --refuse-legacy=result-1017:\n%s", help.String())
	}
}

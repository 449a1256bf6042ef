package main

import (
	"io"
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

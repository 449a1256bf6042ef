package main

import (
	"io"
	"testing"
	"time"
)

func TestConfigLegacyRetry(t *testing.T) {
	c, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil || c.LegacyRetry != 10*time.Minute {
		t.Fatalf("default legacy retry %v, %v; want 10m", c.LegacyRetry, err)
	}
	c, err = parseConfig(nil, env(map[string]string{"PLESKGATE_LEGACY_RETRY": "90s"}), io.Discard)
	if err != nil || c.LegacyRetry != 90*time.Second {
		t.Fatalf("PLESKGATE_LEGACY_RETRY=90s gave %v, %v", c.LegacyRetry, err)
	}
	c, err = parseConfig([]string{"--legacy-retry", "1h"}, env(map[string]string{"PLESKGATE_LEGACY_RETRY": "90s"}), io.Discard)
	if err != nil || c.LegacyRetry != time.Hour {
		t.Fatalf("--legacy-retry 1h gave %v, %v", c.LegacyRetry, err)
	}
	for _, bad := range []string{"0s", "-1m", "soon"} {
		if _, err := parseConfig([]string{"--legacy-retry", bad}, env(nil), io.Discard); err == nil {
			t.Errorf("--legacy-retry %q accepted", bad)
		}
	}
}

package main

import (
	"bytes"
	"testing"
)

// TestConfigAdmission: the admission settings default to 8 and 64, come
// from the environment, and must be positive.
func TestConfigAdmission(t *testing.T) {
	var out bytes.Buffer
	c, err := parseConfig(nil, env(nil), &out)
	if err != nil || c.UpstreamConcurrency != 8 || c.UpstreamQueue != 64 {
		t.Fatalf("defaults %d %d %v", c.UpstreamConcurrency, c.UpstreamQueue, err)
	}
	c, err = parseConfig([]string{"--upstream-queue", "5"}, env(map[string]string{"PLESKGATE_UPSTREAM_CONCURRENCY": "3"}), &out)
	if err != nil || c.UpstreamConcurrency != 3 || c.UpstreamQueue != 5 {
		t.Fatalf("set %d %d %v", c.UpstreamConcurrency, c.UpstreamQueue, err)
	}
	for _, bad := range []string{"0", "-1", "many"} {
		if _, err := parseConfig(nil, env(map[string]string{"PLESKGATE_UPSTREAM_CONCURRENCY": bad}), &out); err == nil {
			t.Errorf("concurrency %q accepted", bad)
		}
	}
}

package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestConfigLimits: the retry, breaker and server-limit settings default to
// upstream.Config's documented values, come from the environment and flags,
// and a bad value is a start-up error naming the variable.
func TestConfigLimits(t *testing.T) {
	c, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.RetryMax != 2 || c.RetryInitial != 100*time.Millisecond || c.BreakerMinCalls != 20 || c.BreakerFailureRatio != 0.5 ||
		c.BreakerWindow != 30*time.Second || c.BreakerOpenFor != 30*time.Second || c.MaxHeaderBytes != 65536 || c.MaxConnections != 4096 ||
		c.MaxHeaderBytesTotal != 4<<20 || c.ReadHeaderTimeout != 10*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = parseConfig([]string{"--breaker-open-for", "5s", "--max-connections", "10"}, env(map[string]string{
		"PLESKGATE_RETRY_MAX": "0", "PLESKGATE_RETRY_INITIAL": "1s", "PLESKGATE_BREAKER_MIN_CALLS": "7",
		"PLESKGATE_BREAKER_FAILURE_RATIO": "0.8", "PLESKGATE_BREAKER_WINDOW": "1m", "PLESKGATE_BREAKER_OPEN_FOR": "1h",
		"PLESKGATE_MAX_HEADER_BYTES": "8192", "PLESKGATE_MAX_CONNECTIONS": "3",
		"PLESKGATE_MAX_HEADER_BYTES_TOTAL": "1048576", "PLESKGATE_READ_HEADER_TIMEOUT": "3s",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.RetryMax != -1 || c.RetryInitial != time.Second || c.BreakerMinCalls != 7 || c.BreakerFailureRatio != 0.8 ||
		c.BreakerWindow != time.Minute || c.BreakerOpenFor != 5*time.Second || c.MaxHeaderBytes != 8192 || c.MaxConnections != 10 ||
		c.MaxHeaderBytesTotal != 1<<20 || c.ReadHeaderTimeout != 3*time.Second {
		t.Fatalf("set: %+v", c)
	}
	for name, bads := range map[string][]string{
		"PLESKGATE_RETRY_MAX":             {"-1", "11", "two"},
		"PLESKGATE_RETRY_INITIAL":         {"0s", "fast"},
		"PLESKGATE_BREAKER_MIN_CALLS":     {"0", "-3", "x"},
		"PLESKGATE_BREAKER_FAILURE_RATIO": {"0", "1.5", "-0.1", "NaN", "half"},
		"PLESKGATE_BREAKER_WINDOW":        {"-1s", "0"},
		"PLESKGATE_BREAKER_OPEN_FOR":      {"later"},
		"PLESKGATE_MAX_HEADER_BYTES":      {"0", "100", "1e9", "big"},
		"PLESKGATE_MAX_CONNECTIONS":       {"0", "-1", "many"},
		"PLESKGATE_MAX_HEADER_BYTES_TOTAL": {"0", "100", "2e9", "lots",
			"32768"}, // below PLESKGATE_MAX_HEADER_BYTES: the largest head could never be read
		"PLESKGATE_READ_HEADER_TIMEOUT": {"0s", "-1s", "never"},
	} {
		for _, bad := range bads {
			_, err := parseConfig(nil, env(map[string]string{name: bad}), io.Discard)
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q: %v", name, bad, err)
			}
		}
	}
}

// TestConfigByteSettings: every number-of-bytes setting takes a positive
// count of bytes, and a bad one is a start-up error naming the variable.
func TestConfigByteSettings(t *testing.T) {
	for name, field := range map[string]func(config) int64{
		"PLESKGATE_MAX_BODY_BYTES":               func(c config) int64 { return c.MaxBodyBytes },
		"PLESKGATE_UPSTREAM_MAX_ANSWER_BYTES":    func(c config) int64 { return c.UpstreamMaxAnswerBytes },
		"PLESKGATE_UPSTREAM_ANSWER_BUDGET_BYTES": func(c config) int64 { return c.UpstreamAnswerBudgetBytes },
	} {
		c, err := parseConfig(nil, env(map[string]string{name: "2048"}), io.Discard)
		if err != nil || field(c) != 2048 {
			t.Errorf("%s=2048: %d %v", name, field(c), err)
		}
		for _, bad := range []string{"0", "-1", "1e6", "lots"} {
			if _, err := parseConfig(nil, env(map[string]string{name: bad}), io.Discard); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q: %v", name, bad, err)
			}
		}
	}
}

package main

import (
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The failed-login shield's settings: defaults, environment and flags, and
// a bad CIDR stops start-up naming the variable.
func TestShieldSettings(t *testing.T) {
	c, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.AuthFailuresPerMinute != 10 || c.UpstreamAuthFailuresPerMinute != 30 || c.AuthRecheck != 60*time.Second || len(c.TrustedProxies) != 0 {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = parseConfig([]string{"--auth-failures-per-minute", "3", "--auth-recheck", "5s"}, env(map[string]string{
		"PLESKGATE_AUTH_FAILURES_PER_MINUTE":          "7",
		"PLESKGATE_UPSTREAM_AUTH_FAILURES_PER_MINUTE": "12",
		"PLESKGATE_TRUSTED_PROXIES":                   "10.0.0.0/8, 192.0.2.1",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32")}
	if c.AuthFailuresPerMinute != 3 || c.UpstreamAuthFailuresPerMinute != 12 || c.AuthRecheck != 5*time.Second ||
		len(c.TrustedProxies) != 2 || c.TrustedProxies[0] != want[0] || c.TrustedProxies[1] != want[1] {
		t.Fatalf("from flags and environment: %+v", c)
	}
	for _, bad := range []map[string]string{
		{"PLESKGATE_TRUSTED_PROXIES": "10.0.0.0/40"},
		{"PLESKGATE_TRUSTED_PROXIES": "proxy.local"},
		{"PLESKGATE_AUTH_FAILURES_PER_MINUTE": "0"},
		{"PLESKGATE_UPSTREAM_AUTH_FAILURES_PER_MINUTE": "many"},
		{"PLESKGATE_AUTH_RECHECK": "-1s"},
	} {
		_, err := parseConfig(nil, env(bad), io.Discard)
		var name string
		for k := range bad {
			name = k
		}
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %v does not name %s", bad, err, name)
		}
	}
}

package main

import (
	"io"
	"strings"
	"testing"
)

// TestConfigUpstreamURL: a panel URL without a scheme or host is refused
// at start-up in one line naming the variable (it used to start, and every
// call was then a 500), never showing the URL's password; one that already
// ends in the agent path is accepted without it (it used to get it twice).
func TestConfigUpstreamURL(t *testing.T) {
	for _, bad := range []string{
		"127.0.0.1:8443", "panel:8443", "panel", "//panel:8443", "ftp://panel", "https://", "https:///agent",
		"https://admin:S3cretPass@panel:8443/?token=S3cretPass", "http://u:S3cretPass@panel%zz",
	} {
		_, err := parseConfig(nil, env(map[string]string{"PLESKGATE_UPSTREAM_URL": bad}), io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), "PLESKGATE_UPSTREAM_URL: ") || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "S3cretPass") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	for raw, want := range map[string]string{
		"https://panel:8443":                                    "https://panel:8443",
		"https://panel:8443/":                                   "https://panel:8443/",
		"http://10.0.0.5:8880/plesk":                            "http://10.0.0.5:8880/plesk",
		"https://panel:8443/enterprise/control/agent.php":       "https://panel:8443",
		"https://u:p@panel:8443/enterprise/control/agent.php/":  "https://u:p@panel:8443",
		"https://[::1]:8443/proxy/enterprise/control/agent.php": "https://[::1]:8443/proxy",
	} {
		c, err := parseConfig([]string{"--upstream-url", raw}, env(nil), io.Discard)
		if err != nil || c.UpstreamURL != want {
			t.Errorf("%q: %q %v, want %q", raw, c.UpstreamURL, err, want)
		}
	}
}

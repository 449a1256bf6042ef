package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestConfigUpstreamURL: a panel URL without a scheme or host is refused
// at start-up in one line naming the variable (it used to start, and every
// call was then a 500), never showing the URL's password; one that already
// ends in the agent path is accepted without it (it used to get it twice),
// and trailing slashes go, so that one panel reaches the gateway spelt one way.
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
		"https://panel:8443/":                                   "https://panel:8443",
		"https://panel:8443//":                                  "https://panel:8443",
		"http://10.0.0.5:8880/plesk/":                           "http://10.0.0.5:8880/plesk",
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

// readmeSettingsRow is one variable of README's settings table
// (## Configuration): its flag and the default the row states.
type readmeSettingsRow struct {
	flag, def string
}

// readmeSettingsTable reads README's settings table: the first table under
// "## Configuration", whose rows are | variables | flags | meaning | default |,
// a row naming several variables (and as many flags, in the same order)
// when they share a meaning and a default.
func readmeSettingsTable(t *testing.T) map[string]readmeSettingsRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## Configuration\n")
	if start < 0 {
		t.Fatal(`README has no "## Configuration"`)
	}
	code := regexp.MustCompile("`([^`]+)`")
	rows := map[string]readmeSettingsRow{}
	inTable := false
	for _, line := range strings.Split(text[start+1:], "\n") {
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		if strings.Trim(line, "|-: ") == "" {
			continue // the |---| line
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) != 4 {
			t.Fatalf("README settings row has %d cells, want 4 (variable | flag | meaning | default): %s", len(cells), line)
		}
		var vars, flags []string
		for _, m := range code.FindAllStringSubmatch(cells[0], -1) {
			vars = append(vars, m[1])
		}
		for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
			flags = append(flags, m[1])
		}
		if len(vars) == 0 || !strings.HasPrefix(vars[0], "PLESKGATE_") {
			continue // the header
		}
		if len(flags) != len(vars) {
			t.Errorf("README settings row names %d variables and %d flags: %s", len(vars), len(flags), line)
			continue
		}
		for i, v := range vars {
			if _, dup := rows[v]; dup {
				t.Errorf("README's settings table has %s twice", v)
			}
			rows[v] = readmeSettingsRow{flag: flags[i], def: strings.TrimSpace(cells[3])}
		}
	}
	if len(rows) == 0 {
		t.Fatal("README's settings table has no rows")
	}
	return rows
}

// TestREADMESettingsTableMatchesConfig: every setting config.go reads has a
// row in README's settings table with its flag and its default, and no row
// names a variable config.go does not read. A setting without a default
// (unset, random, system roots) is described in words, never as a value in
// backticks. Before this test the table had no flags, and nothing stopped a
// row from keeping an old default.
func TestREADMESettingsTableMatchesConfig(t *testing.T) {
	rows := readmeSettingsTable(t)
	read := map[string]bool{}
	for _, s := range settings {
		name := envName(s.name)
		read[name] = true
		row, ok := rows[name]
		if !ok {
			t.Errorf("README's settings table has no row for %s (--%s, default %q)", name, s.name, s.def)
			continue
		}
		if row.flag != "--"+s.name {
			t.Errorf("README gives %s the flag %q; config.go's is --%s", name, row.flag, s.name)
		}
		if s.def != "" && !strings.HasPrefix(row.def, "`"+s.def+"`") {
			t.Errorf("README gives %s the default %q; config.go's is `%s`", name, row.def, s.def)
		}
		if s.def == "" && strings.HasPrefix(row.def, "`") {
			t.Errorf("README gives %s the default %q; config.go has none (say unset, random, …)", name, row.def)
		}
	}
	for name := range rows {
		if !read[name] {
			t.Errorf("README's settings table names %s, which config.go does not read", name)
		}
	}
}

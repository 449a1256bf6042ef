package gateway

import "net/url"

// RedactURL is raw without its userinfo, query and fragment: what may be
// shown of an upstream URL (GET /meta, logs). An upstream URL may carry
// credentials (http://user:PASS@panel) or a token in its query; neither
// is ever shown. A URL that does not parse is shown as "(unparsable URL)".
func RedactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.String()
}

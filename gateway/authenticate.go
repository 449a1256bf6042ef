package gateway

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pleskgate/pleskgate/gateway/upstream"
)

// Authentication modes (DESIGN.md §4).
const (
	AuthPassthrough = "passthrough" // the caller's Plesk credentials go upstream
	AuthService     = "service"     // the gateway's own Plesk credentials; callers present gateway API keys
)

// Canonical forms of the credential headers: indexing http.Header with them
// directly saves Header.Get canonicalising "X-API-Key" on every request.
const (
	headerAPIKey        = "X-Api-Key"
	headerAuthorization = "Authorization"
)

// credentialsFrom returns the upstream credentials authenticate stored in
// the request's state.
func credentialsFrom(ctx context.Context) upstream.Credentials {
	if st := stateFrom(ctx); st != nil && st.hasCreds {
		return st.creds
	}
	return upstream.Credentials{}
}

// identityFrom returns the caller's identity in stores and memos, computed
// once per request by authenticate: the HMAC of the caller's credentials
// (passthrough) or of its API key's name (service mode) under the state
// secret (DESIGN.md §5). Requests without credentials share "anonymous".
func identityFrom(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil && st.hasCreds {
		return st.identity
	}
	return "anonymous"
}

// firstHeader is Header.Get for a key already in canonical form.
func firstHeader(h http.Header, canonicalKey string) string {
	if vs := h[canonicalKey]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// callerCredentials reads what the caller presented: HTTP Basic or X-API-Key.
func callerCredentials(r *http.Request) (upstream.Credentials, bool) {
	if key := strings.TrimSpace(firstHeader(r.Header, headerAPIKey)); key != "" {
		return upstream.Credentials{Key: key}, true
	}
	if login, password, ok := r.BasicAuth(); ok && login != "" {
		return upstream.Credentials{Login: login, Password: password}, true
	}
	return upstream.Credentials{}, false
}

// authenticate resolves the caller's credentials where the OpenAPI
// operation declares security; routes that need none (docs, health,
// metrics) pass on. It runs before the validator, so a request without
// credentials is a 401 whatever else is wrong with it.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		st := stateOf(c)
		if st.route == nil || !st.route.needsAuth {
			return next(c)
		}
		if err := s.resolveCaller(c, st); err != nil {
			return err
		}
		return next(c)
	}
}

// resolveCaller resolves the upstream credentials of a request and stores
// them in its state st.
func (s *Server) resolveCaller(c echo.Context, st *reqState) error {
	r := c.Request()
	if s.cfg.AuthMode == AuthService {
		key := strings.TrimSpace(firstHeader(r.Header, headerAPIKey))
		if key == "" {
			return errUnauthorized("an API key is required in the X-API-Key header")
		}
		k, ok := s.cfg.APIKeys.Lookup(key)
		if !ok {
			return errUnauthorized("the API key is not valid")
		}
		if !k.Allows(r.Method) {
			return &Error{Status: http.StatusForbidden, Slug: "forbidden", Title: "Forbidden",
				Detail: "the API key " + k.Name + " has scope " + k.Scope + " and cannot " + r.Method}
		}
		st.creds, st.hasCreds, st.identity, st.caller = s.cfg.ServiceCredentials, true, upstream.Keyed(s.cfg.StateSecret, "apikey", k.Name), "key:"+k.Name
		st.creds.Caller = st.identity
		return nil
	}
	creds, ok := callerCredentials(r)
	if !ok {
		return errUnauthorized("credentials are required: HTTP Basic with a Plesk login and password, or X-API-Key with a Plesk secret key")
	}
	st.creds, st.hasCreds, st.identity, st.caller = creds, true, creds.Identity(s.cfg.StateSecret), "key"
	st.creds.Caller = st.identity
	if creds.Login != "" {
		st.caller = "login" // principal names it by its fingerprint
	}
	return nil
}

// principal names the caller in the access log: "login:" and a keyed
// fingerprint of the Basic login, "key" (a Plesk secret key) or
// "key:<name>" (a gateway API key). Never the login as typed: a password
// typed into the login field would land in the log. The fingerprint is the
// HMAC under the state secret, so one login's lines share it across
// replicas, and nobody without the secret can test a guess against it. It
// is computed only for lines that are written.
func (s *Server) principal(st *reqState) string {
	if st.caller == "login" {
		return "login:" + upstream.Keyed(s.cfg.StateSecret, "log-login", st.creds.Login)[:12]
	}
	return st.caller
}

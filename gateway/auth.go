package gateway

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
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

type credentialsKey struct{}

// withCredentials stores the upstream credentials in a context that has no
// request state (outside the middleware chain).
func withCredentials(ctx context.Context, c Credentials) context.Context {
	return context.WithValue(ctx, credentialsKey{}, c)
}

// credentialsFrom returns the upstream credentials stored by the auth middleware.
func credentialsFrom(ctx context.Context) Credentials {
	if st := stateFrom(ctx); st != nil && st.hasCreds {
		return st.creds
	}
	c, _ := ctx.Value(credentialsKey{}).(Credentials)
	return c
}

// identityFrom returns credentialsFrom(ctx).Identity(), memoised per
// credentials by authenticate.
func identityFrom(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil && st.hasCreds && st.identity != "" {
		return st.identity
	}
	return credentialsFrom(ctx).Identity()
}

// firstHeader is Header.Get for a key already in canonical form.
func firstHeader(h http.Header, canonicalKey string) string {
	if vs := h[canonicalKey]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// callerCredentials reads what the caller presented: HTTP Basic or X-API-Key.
func callerCredentials(r *http.Request) (Credentials, bool) {
	if key := strings.TrimSpace(firstHeader(r.Header, headerAPIKey)); key != "" {
		return Credentials{Key: key}, true
	}
	if login, password, ok := r.BasicAuth(); ok && login != "" {
		return Credentials{Login: login, Password: password}, true
	}
	return Credentials{}, false
}

// authenticate resolves the upstream credentials of a request and stores them
// in its state. Routes that need none (docs, health, metrics) never get here
// with a requirement: the validator only asks for credentials where the
// OpenAPI operation declares security. What a credential header value yields
// (parsed credentials, identity, caller label, API key) is memoised in
// s.authMemo, so a repeat caller costs a hash and a constant-time compare.
func (s *Server) authenticate(c echo.Context, st *reqState) error {
	r := c.Request()
	switch s.cfg.AuthMode {
	case AuthService:
		key := strings.TrimSpace(firstHeader(r.Header, headerAPIKey))
		if key == "" {
			return errUnauthorized("an API key is required in the X-API-Key header")
		}
		e := s.authMemo.get(memoServiceKey, key)
		if e == nil {
			k, ok := s.cfg.APIKeys.Lookup(key)
			if !ok {
				// Unknown keys are not remembered: guessing must not fill the memo.
				return errUnauthorized("the API key is not valid")
			}
			e = &authEntry{apiKey: k, caller: "key:" + k.Name, creds: s.cfg.ServiceCredentials, identity: s.serviceIdentity}
			s.authMemo.put(memoServiceKey, key, e)
		}
		if !e.apiKey.Allows(r.Method) {
			return &Error{Status: http.StatusForbidden, Slug: "forbidden", Title: "Forbidden",
				Detail: "the API key " + e.apiKey.Name + " has scope " + e.apiKey.Scope + " and cannot " + r.Method}
		}
		s.setCaller(c, st, e)
		return nil
	default:
		kind, raw := memoPassthroughKey, strings.TrimSpace(firstHeader(r.Header, headerAPIKey))
		if raw == "" {
			kind, raw = memoPassthroughBasic, firstHeader(r.Header, headerAuthorization)
		}
		e := s.authMemo.get(kind, raw)
		if e == nil {
			creds, ok := callerCredentials(r)
			if !ok {
				return errUnauthorized("credentials are required: HTTP Basic with a Plesk login and password, or X-API-Key with a Plesk secret key")
			}
			e = &authEntry{creds: creds, identity: creds.Identity(), caller: "key"}
			if creds.Login != "" {
				e.caller = "login:" + creds.Login
			}
			s.authMemo.put(kind, raw, e)
		}
		s.setCaller(c, st, e)
		return nil
	}
}

// setCaller records an authenticated caller in the request's state st
// (nil outside the middleware chain).
func (s *Server) setCaller(c echo.Context, st *reqState, e *authEntry) {
	if st != nil {
		st.creds, st.hasCreds, st.identity, st.caller = e.creds, true, e.identity, e.caller
		return
	}
	// Outside the middleware chain (no state): a context value.
	r := c.Request()
	c.SetRequest(r.WithContext(withCredentials(r.Context(), e.creds)))
}

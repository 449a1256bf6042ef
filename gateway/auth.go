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

type credentialsKey struct{}

// withCredentials stores the upstream credentials for this request.
func withCredentials(ctx context.Context, c Credentials) context.Context {
	return context.WithValue(ctx, credentialsKey{}, c)
}

// credentialsFrom returns the upstream credentials stored by the auth middleware.
func credentialsFrom(ctx context.Context) Credentials {
	c, _ := ctx.Value(credentialsKey{}).(Credentials)
	return c
}

// callerCredentials reads what the caller presented: HTTP Basic or X-API-Key.
func callerCredentials(r *http.Request) (Credentials, bool) {
	if key := strings.TrimSpace(r.Header.Get("X-API-Key")); key != "" {
		return Credentials{Key: key}, true
	}
	if login, password, ok := r.BasicAuth(); ok && login != "" {
		return Credentials{Login: login, Password: password}, true
	}
	return Credentials{}, false
}

// authenticate resolves the upstream credentials of a request and stores them
// in its context. Routes that need none (docs, health, metrics) never get here
// with a requirement: the validator only asks for credentials where the
// OpenAPI operation declares security.
func (s *Server) authenticate(c echo.Context) error {
	r := c.Request()
	switch s.cfg.AuthMode {
	case AuthService:
		key := strings.TrimSpace(r.Header.Get("X-API-Key"))
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
		c.Set(ctxCaller, "key:"+k.Name)
		c.SetRequest(r.WithContext(withCredentials(r.Context(), s.cfg.ServiceCredentials)))
		return nil
	default:
		creds, ok := callerCredentials(r)
		if !ok {
			return errUnauthorized("credentials are required: HTTP Basic with a Plesk login and password, or X-API-Key with a Plesk secret key")
		}
		if creds.Login != "" {
			c.Set(ctxCaller, "login:"+creds.Login)
		} else {
			c.Set(ctxCaller, "key")
		}
		c.SetRequest(r.WithContext(withCredentials(r.Context(), creds)))
		return nil
	}
}

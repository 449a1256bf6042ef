package gateway

import (
	"errors"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
)

// validatorOptions are the same for every request.
var validatorOptions = &openapi3filter.Options{
	SkipSettingDefaults: true,
	// Credentials were checked before, against the configured mode; the
	// routes carry no security requirement for ValidateRequest.
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
}

// validate checks every API request against openapi.yaml with kin-openapi
// before a handler sees it; query parameters the operation does not declare
// are refused too (checkQuery). Defaults are deliberately not filled into
// bodies (SkipSettingDefaults): a merge patch must carry only what was
// sent; handlers apply documented defaults themselves.
func (s *Server) validate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		info := stateOf(c).route
		if info == nil {
			return next(c) // not an API operation (matchOperation)
		}
		r := c.Request()
		if err := checkQuery(r.URL.RawQuery, info.query); err != nil {
			return err
		}
		names, values := c.ParamNames(), c.ParamValues()
		pathParams := make(map[string]string, len(names))
		for i, name := range names {
			pathParams[name] = values[i]
		}
		input := &openapi3filter.RequestValidationInput{
			Request: r, PathParams: pathParams, Route: info.route, Options: validatorOptions,
		}
		body := r.Body // the validator replaces it with what it read
		if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				// A body without Content-Length (chunked) that ran over.
				if lb, ok := body.(limitedBody); ok {
					drainOversize(r, lb.orig)
				}
				return s.tooLarge()
			}
			return err
		}
		return next(c)
	}
}

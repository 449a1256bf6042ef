package gateway

import (
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
)

// specRoute is one OpenAPI operation under Echo's spelling of its path.
type specRoute struct {
	// route is what ValidateRequest sees: the operation with its security
	// requirements left out, because the gateway checks credentials itself
	// (authenticate) and kin-openapi's check, with no authentication
	// function, only reads the body into memory once per scheme.
	route       *routers.Route
	operationID string
	needsAuth   bool     // the operation declares security (or inherits the spec's)
	query       []string // the declared query parameters, sorted (queryparams.go)
}

// routeKey is a method and an Echo route template ("/clients/:id").
type routeKey struct{ method, path string }

// noSecurity is the empty requirement list: ValidateRequest skips the check.
var noSecurity = openapi3.SecurityRequirements{}

// specRoutes indexes the spec's operations by method and Echo route
// template ({id} becomes :id), built once.
func specRoutes(spec *openapi3.T) map[routeKey]*specRoute {
	out := map[routeKey]*specRoute{}
	for path, item := range spec.Paths.Map() {
		echoPath := path
		for {
			i := strings.IndexByte(echoPath, '{')
			j := strings.IndexByte(echoPath, '}')
			if i < 0 || j < i {
				break
			}
			echoPath = echoPath[:i] + ":" + echoPath[i+1:j] + echoPath[j+1:]
		}
		for method, op := range item.Operations() {
			vop := *op
			vop.Security = &noSecurity
			out[routeKey{method, echoPath}] = &specRoute{
				route:       &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: &vop},
				operationID: op.OperationID,
				needsAuth:   op.Security == nil || len(*op.Security) > 0,
				query:       declaredQuery(item, op),
			}
		}
	}
	return out
}

// matchOperation notes on the request's state which OpenAPI operation Echo
// matched (the steps after it read it from there), and refuses a POST that
// is not JSON before anything else: a forged POST gets no further.
// Requests for no API operation (docs, health, an unknown path) pass on
// unnoted, and Echo answers 404/405 where it found no route.
func (s *Server) matchOperation(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		// Echo has already matched the route: look the operation up by
		// Echo's route template instead of routing a second time.
		info, ok := s.routes[routeKey{r.Method, c.Path()}]
		if !ok {
			return next(c)
		}
		if err := requireJSONPost(r); err != nil {
			return err
		}
		st := stateOf(c)
		st.route, st.operation = info, info.operationID
		return next(c)
	}
}

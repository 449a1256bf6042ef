package gateway

import (
	"net/http"
	"reflect"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// paramCheck is a precompiled check of one path or header parameter whose
// schema is simple enough (an integer with bounds, a string with lengths)
// to decide cheaply that a value is valid. It never decides that a value is
// invalid: when it cannot vouch for a value the request goes through
// kin-openapi's ValidateRequest, which then writes the usual problem. So the
// check narrows nothing the validator would accept, and lets nothing through
// that the validator would refuse.
type paramCheck struct {
	in       string // openapi3.ParameterInPath or ParameterInHeader
	name     string // path parameter name, or canonical header key
	required bool

	isInt     bool
	maxDigits int // int: longest digit string accepted (18 for int64, 9 for int32)
	min, max  *float64

	minLen uint64  // string
	maxLen *uint64 // string
}

// compileParamChecks returns the checks of an operation's path and header
// parameters, or ok=false when any of them (or any cookie parameter) is
// beyond what paramCheck understands. Query parameters are not needed: a
// request with a query string is always validated in full.
func compileParamChecks(item *openapi3.PathItem, op *openapi3.Operation) ([]paramCheck, bool) {
	var params []*openapi3.Parameter
	for _, ref := range item.Parameters {
		if ref.Value == nil {
			return nil, false
		}
		if op.Parameters.GetByInAndName(ref.Value.In, ref.Value.Name) != nil {
			continue // overridden by the operation
		}
		params = append(params, ref.Value)
	}
	for _, ref := range op.Parameters {
		if ref.Value == nil {
			return nil, false
		}
		params = append(params, ref.Value)
	}
	var checks []paramCheck
	for _, p := range params {
		switch p.In {
		case openapi3.ParameterInQuery:
			continue
		case openapi3.ParameterInPath, openapi3.ParameterInHeader:
		default:
			return nil, false
		}
		if p.Content != nil || (p.Style != "" && p.Style != openapi3.SerializationSimple) || p.Schema == nil || p.Schema.Value == nil {
			return nil, false
		}
		c, ok := compileSchemaCheck(p.Schema.Value)
		if !ok {
			return nil, false
		}
		c.in, c.name, c.required = p.In, p.Name, p.Required
		if p.In == openapi3.ParameterInHeader {
			c.name = http.CanonicalHeaderKey(p.Name)
		}
		checks = append(checks, c)
	}
	return checks, true
}

// compileSchemaCheck understands exactly two shapes: {type: integer,
// format: int32|int64|"", minimum, maximum} and {type: string, minLength,
// maxLength}; documentation keywords are ignored, anything else refuses.
func compileSchemaCheck(s *openapi3.Schema) (paramCheck, bool) {
	rest := *s
	rest.Extensions, rest.Origin = nil, nil
	rest.Title, rest.Description, rest.Example, rest.ExternalDocs, rest.Deprecated = "", "", nil, nil, false
	rest.Type, rest.Format = nil, ""
	rest.Min, rest.Max = nil, nil
	rest.MinLength, rest.MaxLength = 0, nil
	if !reflect.DeepEqual(rest, openapi3.Schema{}) || s.Type == nil || len(s.Type.Slice()) != 1 {
		return paramCheck{}, false
	}
	switch {
	case s.Type.Is(openapi3.TypeInteger) && s.MinLength == 0 && s.MaxLength == nil:
		c := paramCheck{isInt: true, min: s.Min, max: s.Max}
		switch s.Format {
		case "", "int64":
			c.maxDigits = 18
		case "int32":
			c.maxDigits = 9
		default:
			return paramCheck{}, false
		}
		return c, true
	case s.Type.Is(openapi3.TypeString) && s.Format == "" && s.Min == nil && s.Max == nil:
		return paramCheck{minLen: s.MinLength, maxLen: s.MaxLength}, true
	}
	return paramCheck{}, false
}

// paramsValid reports whether every check vouches for the request's values.
func paramsValid(checks []paramCheck, c echo.Context, h http.Header) bool {
	for i := range checks {
		ch := &checks[i]
		var v string
		var present bool
		if ch.in == openapi3.ParameterInPath {
			v = c.Param(ch.name)
			present = true
		} else if vs, ok := h[ch.name]; ok {
			if len(vs) != 1 {
				return false
			}
			v, present = vs[0], true
		}
		if !present {
			if ch.required {
				return false
			}
			continue
		}
		if !ch.valid(v) {
			return false
		}
	}
	return true
}

func (ch *paramCheck) valid(v string) bool {
	if ch.isInt {
		// Plain decimal digits without a sign or a leading zero: every
		// parser reads them alike.
		if v == "" || len(v) > ch.maxDigits || (v[0] == '0' && len(v) > 1) {
			return false
		}
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return false
			}
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		f := float64(n)
		return (ch.min == nil || f >= *ch.min) && (ch.max == nil || f <= *ch.max)
	}
	// Strings: ASCII only, so that bytes and characters count alike.
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			return false
		}
	}
	n := uint64(len(v))
	return n >= ch.minLen && (ch.maxLen == nil || n <= *ch.maxLen)
}

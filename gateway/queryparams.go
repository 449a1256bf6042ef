package gateway

import (
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// declaredQuery lists, sorted, the query parameters an operation declares
// in openapi.yaml (its own and its path's). kin-openapi validates the
// declared ones and ignores the rest; checkQuery refuses the rest, so that a
// misspelt or guessed parameter (?page=2, ?offset=2) is a 400, not a
// silently different answer.
func declaredQuery(item *openapi3.PathItem, op *openapi3.Operation) []string {
	var names []string
	for _, params := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery && !slices.Contains(names, p.Value.Name) {
				names = append(names, p.Value.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// checkQuery answers a 400 problem naming the first query parameter of
// rawQuery that the operation does not declare.
func checkQuery(rawQuery string, declared []string) error {
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		name, _, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if _, ok := slices.BinarySearch(declared, name); ok {
			continue
		}
		detail := "unknown query parameter \"" + name + "\": "
		if len(declared) == 0 {
			detail += "this operation takes none"
		} else {
			detail += "this operation takes " + strings.Join(declared, ", ")
		}
		return &Error{Status: 400, Slug: "validation", Title: "Request does not match the API contract", Detail: detail,
			Errors: []FieldError{{Field: "query." + name, Message: "unknown parameter"}}}
	}
	return nil
}

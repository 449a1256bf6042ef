package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/translator"
)

// Problem is an RFC 9457 problem details body (DESIGN.md §3).
type Problem struct {
	Type         string       `json:"type"`
	Title        string       `json:"title"`
	Status       int          `json:"status"`
	Detail       string       `json:"detail,omitempty"`
	Instance     string       `json:"instance,omitempty"`
	RequestID    string       `json:"request_id,omitempty"`
	TraceID      string       `json:"trace_id,omitempty"` // when tracing is on (tracing.go)
	PleskErrcode *int         `json:"plesk_errcode,omitempty"`
	PleskErrtext *string      `json:"plesk_errtext,omitempty"`
	Errors       []FieldError `json:"errors,omitempty"`
}

// FieldError names one invalid part of a request.
type FieldError struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Error is an error a handler raises with an explicit HTTP status.
type Error struct {
	Status int
	Slug   string // last part of the problem type URI
	Title  string
	Detail string
	Errors []FieldError
	Cause  error
	// Header is added to the error response (e.g. WWW-Authenticate).
	Header http.Header
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Title, e.Detail, e.Cause)
	}
	return e.Title + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Cause }

func errBadRequest(detail string, fields ...FieldError) *Error {
	return &Error{Status: http.StatusBadRequest, Slug: "bad-request", Title: "Bad request", Detail: detail, Errors: fields}
}

func errUnprocessable(detail string, fields ...FieldError) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Slug: "invalid-value", Title: "Invalid value", Detail: detail, Errors: fields}
}

func errNotFound(detail string) *Error {
	return &Error{Status: http.StatusNotFound, Slug: "not-found", Title: "Not found", Detail: detail}
}

func errPreconditionFailed(detail string) *Error {
	return &Error{Status: http.StatusPreconditionFailed, Slug: "precondition-failed", Title: "Precondition failed", Detail: detail}
}

func errUnauthorized(detail string) *Error {
	h := http.Header{}
	h.Set("WWW-Authenticate", `Basic realm="pleskgate", charset="UTF-8"`)
	return &Error{Status: http.StatusUnauthorized, Slug: "unauthorized", Title: "Unauthorized", Detail: detail, Header: h}
}

// pleskStatus is the single table from Plesk error codes to HTTP statuses
// (PROTOCOL.md §9, DESIGN.md §3). Codes not listed map to 502: Plesk said
// something we cannot interpret, which is an upstream failure, not the caller's.
func pleskStatus(code int) (status int, slug, title string) {
	switch code {
	case translator.CodeAuthFailed, translator.CodeUnknownAuthMethod, translator.CodeSecretKeyInvalid:
		// Plesk refused the caller's own credentials: the caller must authenticate.
		return http.StatusUnauthorized, "unauthorized", "Plesk refused the credentials"
	case translator.CodeUserExists, translator.CodeDataExists:
		return http.StatusConflict, "conflict", "Already exists"
	case translator.CodeLimitReached:
		// A license or reseller limit: the request is fine, the server's state refuses it.
		return http.StatusConflict, "limit-reached", "Limit reached"
	case translator.CodePermissionDenied, translator.CodeMultipleAccessDenied, translator.CodeAccessDenied,
		translator.CodeAccountDisabled, translator.CodeLockedLogin:
		return http.StatusForbidden, "forbidden", "Permission denied"
	case translator.CodeObjectNotFound:
		return http.StatusNotFound, "not-found", "Not found"
	case translator.CodeOwnerNotFound, translator.CodeIPNotFound, translator.CodeInvalidValue,
		translator.CodeWrongStatus, translator.CodeWrongNetworkInterface, translator.CodeIncompleteAccount:
		// The caller named an owner, an IP or a value Plesk will not take.
		return http.StatusUnprocessableEntity, "invalid-value", "Plesk refused a value"
	case translator.CodeFeatureUnsupported, translator.CodeComponentNotInstalled, translator.CodeWebmailNotInstalled:
		return http.StatusNotImplemented, "not-implemented", "Not supported by the Plesk server"
	case translator.CodeAgentInitFailed, translator.CodeSetupIncomplete, translator.CodeLicenseExpired, translator.CodeComponentNotConfigured:
		return http.StatusServiceUnavailable, "upstream-unavailable", "Plesk is not able to serve requests"
	case translator.CodeParseError, translator.CodeVersionUnsupported:
		// Plesk refused a packet the gateway built (or a version it chose): a
		// gateway/upstream mismatch, never the caller's fault.
		return http.StatusBadGateway, "packet-refused", "Plesk refused the request packet"
	default:
		return http.StatusBadGateway, "upstream-error", "Plesk reported an error"
	}
}

// problemFor turns any error into the problem it is reported as.
func problemFor(err error) (Problem, http.Header) {
	var (
		gerr  *Error
		perr  *translator.Error
		uerr  *translator.UnsupportedError
		nsup  *unsupportedOperationError
		upErr *upstream.Error
		rerr  *openapi3filter.RequestError
		serr  *openapi3filter.SecurityRequirementsError
	)
	if le, ok := legacyRefusalOf(err); ok {
		return le.problem(), nil
	}
	if errors.Is(err, upstream.ErrUnsendableCredentials) {
		// Checked before any packet, so a caller cannot make the panel look
		// down (it would be a transport failure) with a password Go refuses.
		err = errUnauthorized(err.Error())
	}
	switch {
	case errors.As(err, &gerr):
		return Problem{Type: problemType(gerr.Slug), Title: gerr.Title, Status: gerr.Status, Detail: gerr.Detail, Errors: gerr.Errors}, gerr.Header
	case errors.As(err, &nsup), errors.As(err, &uerr):
		return Problem{Type: problemType("not-implemented"), Title: "Not supported by the Plesk server", Status: http.StatusNotImplemented, Detail: err.Error()}, nil
	case errors.As(err, &perr):
		status, slug, title := pleskStatus(perr.Code)
		if translator.IsConflict(perr) { // a 1019 "… already exists." (REC-1) is the conflict it says
			status, slug, title = pleskStatus(translator.CodeDataExists)
		}
		code, text := perr.Code, perr.Text
		p := Problem{Type: problemType(slug), Title: title, Status: status, Detail: text, PleskErrcode: &code, PleskErrtext: &text}
		if perr.System {
			p.Detail = "Plesk refused the whole packet: " + text
		}
		var h http.Header
		if status == http.StatusUnauthorized {
			h = http.Header{"Www-Authenticate": {`Basic realm="pleskgate", charset="UTF-8"`}}
		}
		return p, h
	case errors.As(err, &upErr):
		status, slug := upstreamStatus(upErr.Kind)
		var h http.Header
		if upErr.Kind == upstream.Busy {
			h = http.Header{"Retry-After": {"1"}}
		}
		return Problem{Type: problemType(slug), Title: upErr.Kind.Title(), Status: status, Detail: upErr.Error()}, h
	case errors.Is(err, translator.ErrMalformed):
		return Problem{Type: problemType("bad-upstream-answer"), Title: "Malformed answer from Plesk", Status: http.StatusBadGateway, Detail: err.Error()}, nil
	case errors.Is(err, translator.ErrInvalidInput):
		return Problem{Type: problemType("invalid-value"), Title: "Invalid value", Status: http.StatusUnprocessableEntity, Detail: err.Error()}, nil
	case errors.As(err, &serr):
		e := errUnauthorized("credentials are required: HTTP Basic or X-API-Key")
		return Problem{Type: problemType(e.Slug), Title: e.Title, Status: e.Status, Detail: e.Detail}, e.Header
	case errors.As(err, &rerr):
		return validationProblem(rerr), nil
	}
	if p, ok := echoProblem(err); ok {
		return p, nil
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Problem{Type: problemType("upstream-timeout"), Title: "Plesk did not answer in time", Status: http.StatusGatewayTimeout, Detail: err.Error()}, nil
	case errors.Is(err, context.Canceled):
		// 499 in nginx terms; nobody reads it, but the access log should not say 500.
		return Problem{Type: problemType("canceled"), Title: "Request canceled", Status: 499, Detail: "the client went away"}, nil
	default:
		return Problem{Type: problemType("internal"), Title: "Internal error", Status: http.StatusInternalServerError, Detail: "an unexpected error occurred; the request id identifies it in the logs"}, nil
	}
}

func validationProblem(rerr *openapi3filter.RequestError) Problem {
	if rerr.RequestBody != nil && strings.HasPrefix(rerr.Reason, "header Content-Type has unexpected value") {
		return Problem{Type: problemType("unsupported-media-type"), Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType,
			Detail: rerr.Reason + ": send the media type the operation documents (application/json, or application/merge-patch+json for PATCH)"}
	}
	field := ""
	if rerr.Parameter != nil {
		field = rerr.Parameter.In + "." + rerr.Parameter.Name
	} else if rerr.RequestBody != nil {
		field = bodyPointer(rerr.Err)
	}
	msg := rerr.Reason
	if rerr.Err != nil {
		msg = strings.TrimSpace(strings.TrimPrefix(rerr.Err.Error(), "doesn't match schema: "))
	}
	if msg == "" {
		msg = rerr.Error()
	}
	return batchItemProblem(rerr, Problem{
		Type: problemType("validation"), Title: "Request does not match the API contract", Status: http.StatusBadRequest,
		Detail: firstLine(rerr.Error()), Errors: []FieldError{{Field: field, Message: firstLine(msg)}},
	})
}

// bodyPointer is the JSON pointer (RFC 6901) of the body member a schema
// error is about: "/name", "/limits/max_dom"; "" (the whole body) when the
// error is not a schema error or concerns the body itself. kin-openapi
// names a missing required member by its own pointer, an unknown one by
// its object's.
func bodyPointer(err error) string {
	var serr *openapi3.SchemaError
	if !errors.As(err, &serr) {
		return ""
	}
	var b strings.Builder
	for _, tok := range serr.JSONPointer() {
		b.WriteByte('/')
		b.WriteString(escapePointer(tok))
	}
	// An unknown member is reported at its object: name the member itself
	// (kin-openapi's reason is `property "extra" is unsupported`).
	if serr.SchemaField == "properties" {
		if q, ok := strings.CutSuffix(strings.TrimPrefix(serr.Reason, "property "), " is unsupported"); ok {
			if name, err := strconv.Unquote(q); err == nil {
				b.WriteByte('/')
				b.WriteString(escapePointer(name))
			}
		}
	}
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func slugForStatus(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not-found"
	case http.StatusMethodNotAllowed:
		return "method-not-allowed"
	case http.StatusRequestEntityTooLarge:
		return "too-large"
	case http.StatusUnsupportedMediaType:
		return "unsupported-media-type"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	default:
		if status >= 500 {
			return "internal"
		}
		return "bad-request"
	}
}

func problemType(slug string) string { return "https://pleskgate.dev/problems/" + slug }

// fallbackProblem is written when encoding the real problem fails.
const fallbackProblem = `{"type":"https://pleskgate.dev/problems/internal","title":"Internal error","status":500}`

// upstreamStatus maps a failure to reach Plesk to its HTTP status and
// problem slug: unreachable 503, timed out 504, any other broken answer 502.
func upstreamStatus(k upstream.ErrorKind) (int, string) {
	switch k {
	case upstream.Timeout:
		return http.StatusGatewayTimeout, "upstream-timeout"
	case upstream.Unavailable:
		return http.StatusServiceUnavailable, "upstream-unavailable"
	case upstream.Busy:
		return http.StatusServiceUnavailable, "upstream-busy"
	default:
		return http.StatusBadGateway, "bad-upstream-answer"
	}
}

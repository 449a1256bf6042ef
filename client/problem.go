package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
)

// ProblemError is an answer of 400 or above from the gateway: its status
// and the RFC 9457 problem it carried (application/problem+json). A body
// that is not a problem (a proxy's HTML page, say) leaves Problem with the
// status and the status text as its title.
type ProblemError struct {
	StatusCode int
	Problem    Problem
}

func (e *ProblemError) Error() string {
	s := fmt.Sprintf("pleskgate: %d %s", e.StatusCode, e.Problem.Title)
	if e.Problem.Detail != nil && *e.Problem.Detail != "" {
		s += ": " + *e.Problem.Detail
	}
	if e.Problem.PleskErrcode != nil {
		s += fmt.Sprintf(" (Plesk error %d)", *e.Problem.PleskErrcode)
	}
	return s
}

// Sentinel errors a *ProblemError matches with errors.Is, by status.
var (
	ErrBadRequest         = errors.New("bad request")
	ErrUnauthorized       = errors.New("unauthorized")
	ErrForbidden          = errors.New("forbidden")
	ErrNotFound           = errors.New("not found")
	ErrConflict           = errors.New("conflict")
	ErrPreconditionFailed = errors.New("precondition failed")
	ErrUnprocessable      = errors.New("unprocessable")
)

var sentinelStatus = map[error]int{
	ErrBadRequest:         http.StatusBadRequest,
	ErrUnauthorized:       http.StatusUnauthorized,
	ErrForbidden:          http.StatusForbidden,
	ErrNotFound:           http.StatusNotFound,
	ErrConflict:           http.StatusConflict,
	ErrPreconditionFailed: http.StatusPreconditionFailed,
	ErrUnprocessable:      http.StatusUnprocessableEntity,
}

// Is reports whether target is the sentinel for e's status
// (errors.Is(err, client.ErrNotFound)).
func (e *ProblemError) Is(target error) bool {
	status, ok := sentinelStatus[target]
	return ok && status == e.StatusCode
}

// CheckResponse returns nil for an answer below 400, else a *ProblemError
// decoded from its body. Pass a generated response's HTTPResponse and Body:
//
//	r, err := c.GetClientWithResponse(ctx, 7, nil)
//	if err == nil {
//		err = client.CheckResponse(r.HTTPResponse, r.Body)
//	}
func CheckResponse(resp *http.Response, body []byte) error {
	if resp == nil {
		return errors.New("pleskgate: no response")
	}
	if resp.StatusCode < 400 {
		return nil
	}
	e := &ProblemError{StatusCode: resp.StatusCode}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" && json.Unmarshal(body, &e.Problem) == nil {
		return e
	}
	e.Problem = Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
	return e
}

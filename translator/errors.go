package translator

import (
	"errors"
	"strconv"
	"strings"
)

// Plesk error codes from the "reduced list" (PROTOCOL.md §9, [DOC]
// reduced-list-of-error-codes.33765). The comment is the documented meaning.
// Codes not in that list are passed through unnamed.
const (
	CodeAuthFailed              = 1001  // Authentication failed - wrong password.
	CodeUserExists              = 1002  // User account already exists.
	CodeAgentInitFailed         = 1003  // Agent initialization failed.
	CodeSetupIncomplete         = 1004  // Plesk initial setup not completed.
	CodeVersionUnsupported      = 1005  // XML API version not supported.
	CodePermissionDenied        = 1006  // Permission denied.
	CodeDataExists              = 1007  // Inserted data already exists.
	CodeMultipleAccessDenied    = 1008  // Multiple access denied.
	CodeInvalidVirtuozzoKey     = 1009  // Invalid Virtuozzo key.
	CodeAccessDenied            = 1010  // Access to Plesk Panel denied.
	CodeAccountDisabled         = 1011  // Account disabled.
	CodeLockedLogin             = 1012  // Locked login.
	CodeObjectNotFound          = 1013  // Object does not exist/Unknown service.
	CodeParseError              = 1014  // Parsing error: wrong format of XML request.
	CodeOwnerNotFound           = 1015  // Object owner not found.
	CodeFeatureUnsupported      = 1017  // Feature not supported by the current version of XML API.
	CodeIPNotFound              = 1018  // IP address not found.
	CodeInvalidValue            = 1019  // Invalid value.
	CodeOperationFailed         = 1023  // Operation failed.
	CodeLimitReached            = 1024  // Limit reached.
	CodeWrongStatus             = 1025  // Wrong status value.
	CodeComponentNotInstalled   = 1026  // Component not installed.
	CodeIPOperationFailed       = 1027  // IP operation failed.
	CodeUnknownAuthMethod       = 1029  // Unknown authentication method.
	CodeLicenseExpired          = 1030  // License expired.
	CodeComponentNotConfigured  = 1031  // Component not configured.
	CodeWrongNetworkInterface   = 1032  // Wrong network interface.
	CodeIncompleteAccount       = 1033  // Client account is incomplete (important fields are empty).
	CodeWebmailNotInstalled     = 1050  // Webmail not installed.
	CodeSecretKeyInvalid        = 11003 // Secret key validation failed.
	CodeDBServerTypeUnsupported = 14008 // DB server type (§9 lists 14008/14009 without verbatim text).
	CodeDBServerNotConfigured   = 14009 // DB server not configured (§9).
)

// Sentinel categories matched by (*Error).Is. Use errors.Is(err, ErrNotFound).
var (
	ErrNotFound        = errors.New("plesk: object not found")
	ErrExists          = errors.New("plesk: already exists")
	ErrPermission      = errors.New("plesk: permission denied")
	ErrAuthentication  = errors.New("plesk: authentication failed")
	ErrInvalidValue    = errors.New("plesk: invalid value")
	ErrPacketRefused   = errors.New("plesk: packet refused")
	ErrUnsupported     = errors.New("plesk: unsupported")
	ErrVersion         = errors.New("plesk: protocol version not supported")
	ErrOwnerNotFound   = errors.New("plesk: owner not found")
	ErrIPNotFound      = errors.New("plesk: IP address not found")
	ErrLimitReached    = errors.New("plesk: limit reached")
	ErrUnavailable     = errors.New("plesk: unavailable")
	ErrOperationFailed = errors.New("plesk: operation failed")

	// ErrMalformed: a response body could not be understood (see ParseError).
	ErrMalformed = errors.New("translator: malformed response")
	// ErrInvalidInput: a request value cannot be put into a packet.
	ErrInvalidInput = errors.New("translator: invalid input")
)

// CodeCategory returns the sentinel category of a Plesk error code, or nil
// for a code with no category (unknown codes, 1009, 1050, 14008, 14009).
func CodeCategory(code int) error {
	switch code {
	case CodeObjectNotFound:
		return ErrNotFound
	case CodeUserExists, CodeDataExists:
		return ErrExists
	case CodePermissionDenied, CodeMultipleAccessDenied, CodeAccessDenied, CodeAccountDisabled, CodeLockedLogin:
		return ErrPermission
	case CodeAuthFailed, CodeUnknownAuthMethod, CodeSecretKeyInvalid:
		return ErrAuthentication
	case CodeInvalidValue, CodeWrongStatus, CodeWrongNetworkInterface, CodeIncompleteAccount:
		return ErrInvalidValue
	case CodeParseError:
		return ErrPacketRefused
	case CodeFeatureUnsupported, CodeComponentNotInstalled:
		return ErrUnsupported
	case CodeVersionUnsupported:
		return ErrVersion
	case CodeOwnerNotFound:
		return ErrOwnerNotFound
	case CodeIPNotFound:
		return ErrIPNotFound
	case CodeLimitReached:
		return ErrLimitReached
	case CodeAgentInitFailed, CodeSetupIncomplete, CodeLicenseExpired, CodeComponentNotConfigured:
		return ErrUnavailable
	case CodeOperationFailed, CodeIPOperationFailed:
		return ErrOperationFailed
	}
	return nil
}

// Error is an error Plesk reported: a packet-level <system> error (System
// true: nothing in the packet ran, §1.3) or one operation <result> error.
type Error struct {
	Code   int
	Text   string
	System bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("plesk ")
	if e.System {
		b.WriteString("system ")
	}
	b.WriteString("error ")
	b.WriteString(strconv.Itoa(e.Code))
	if e.Text != "" {
		b.WriteString(": ")
		b.WriteString(e.Text)
	}
	return b.String()
}

// Is matches the sentinel category of e (see Category).
func (e *Error) Is(target error) bool {
	c := e.Category()
	return c != nil && c == target
}

// Category is CodeCategory(e.Code), except that a 1019 (invalid value) whose
// errtext says "already exists" is ErrExists.
//
// Decision, from PROTOCOL.md §15 REC-1: a real Plesk 11.5 answered a reseller
// add with a taken login as 1019 "Unable to set login or password argument:
// A user with username "reseller99" already exists." while a customer add
// with a taken login was 1007. The condition is the same, a name that is
// taken, so a caller must see the same conflict for both: retrying with the
// same value can never succeed, and the fix is another name, not another
// format. The text is the only signal and the match is narrow ("already
// exists", the recorded English wording): any other 1019, including one a
// panel might word differently, stays ErrInvalidValue (a 422, never wrong,
// only less precise).
func (e *Error) Category() error {
	if e.Code == CodeInvalidValue && strings.Contains(strings.ToLower(e.Text), "already exists") {
		return ErrExists
	}
	return CodeCategory(e.Code)
}

// IsConflict reports whether err is a Plesk error meaning "already exists":
// 1002, 1007, or a 1019 saying so (see Category).
func IsConflict(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.Category() == ErrExists
}

// UnsupportedError: the chosen protocol version lacks an operation, a field
// or a filter kind. EncodeRequest returns it instead of building a packet.
type UnsupportedError struct {
	Operation Operation
	Feature   string // "" when the whole operation is missing; else e.g. "field external-id", "filter guid"
	Version   Version
}

func (e *UnsupportedError) Error() string {
	var b strings.Builder
	b.WriteString("translator: ")
	b.WriteString(string(e.Operation))
	if e.Feature != "" {
		b.WriteString(" ")
		b.WriteString(e.Feature)
	}
	b.WriteString(" unsupported by protocol ")
	b.WriteString(e.Version.String())
	return b.String()
}

// Is reports true for ErrUnsupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// maxSnippet bounds ParseError.Snippet.
const maxSnippet = 256

// ParseError: a response body is not a packet we can read as the answer to
// the request we sent. Snippet holds at most 256 bytes of the body near the
// problem.
type ParseError struct {
	Msg     string
	Snippet string
	Err     error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("translator: malformed response: ")
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Snippet != "" {
		b.WriteString(" (near ")
		b.WriteString(strconv.Quote(e.Snippet))
		b.WriteString(")")
	}
	return b.String()
}

// Is reports true for ErrMalformed.
func (e *ParseError) Is(target error) bool { return target == ErrMalformed }

// Unwrap returns the underlying error, if any.
func (e *ParseError) Unwrap() error { return e.Err }

// newParseError builds a ParseError whose snippet is the part of body around
// byte offset off (negative: the start of the body).
func newParseError(body []byte, off int64, err error, msg string) *ParseError {
	return &ParseError{Msg: msg, Snippet: snippet(body, off), Err: err}
}

func snippet(body []byte, off int64) string {
	start := 0
	if off > 0 && off <= int64(len(body)) {
		start = int(off) - maxSnippet/2
		if start < 0 {
			start = 0
		}
	}
	end := start + maxSnippet
	if end > len(body) {
		end = len(body)
	}
	// Invalid or cut-off UTF-8 is dropped so the snippet stays printable
	// and within maxSnippet bytes.
	return strings.ToValidUTF8(string(body[start:end]), "")
}

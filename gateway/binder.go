package gateway

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// jsonBinder decodes request bodies of every JSON media type. Echo's default
// binder knows only application/json and answers 415 to
// application/merge-patch+json; it also binds query parameters into bodies,
// which the generated handlers do not want (they bind parameters themselves).
// The validator has already checked the media type and the body against
// openapi.yaml, and kept nulls: JSON null reaches nullable.Nullable fields, so
// a merge patch can tell "clear" from "absent".
//
// Bodies are read strictly (DESIGN.md §7): encoding/json lets the last of
// two equal member names win and turns bytes that are not UTF-8 into U+FFFD,
// so a body is first checked by checkStrictJSON and refused with 400 naming
// the member as a JSON pointer.
type jsonBinder struct{}

func (jsonBinder) Bind(i any, c echo.Context) error {
	body := c.Request().Body
	if body == nil || body == http.NoBody {
		return nil
	}
	data, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Slug: "too-large", Title: "Request body too large", Detail: err.Error()}
		}
		return err
	}
	if len(data) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(i); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // only white space
		}
		field := ""
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			field = "/" + strings.ReplaceAll(ute.Field, ".", "/")
		}
		return errBadRequest("the body is not valid JSON for this operation: "+err.Error(), FieldError{Field: field, Message: err.Error()})
	}
	// One JSON value and nothing after it: "{…} trailing" is not a body the
	// caller meant (the validator, too, reads only the first value).
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errBadRequest("the body has data after its JSON value", FieldError{Field: "", Message: "trailing data after the JSON value"})
	}
	if fe := checkStrictJSON(data); fe != nil {
		return errBadRequest("the body is not strict JSON: "+fe.Message, *fe)
	}
	return nil
}

// requireJSONPost refuses a POST whose Content-Type is not application/json
// (parameters allowed; a charset must be UTF-8), whatever its body, empty
// bodies included. An HTML form or a text/plain fetch can be sent across
// origins without a CORS preflight; application/json cannot, so a page in a
// logged-in browser cannot forge a POST (convert-to-reseller is
// irreversible). application/*+json is refused too: no POST documents one.
func requireJSONPost(r *http.Request) error {
	if r.Method != http.MethodPost {
		return nil
	}
	ct := r.Header.Get(echo.HeaderContentType)
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && mt == "application/json" {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return nil
		}
	}
	detail := "every POST takes Content-Type: application/json, even with an empty body"
	if ct == "" {
		detail += "; the request has no Content-Type"
	} else {
		detail += "; the request has " + strconv.Quote(ct)
	}
	return &Error{Status: http.StatusUnsupportedMediaType, Slug: "unsupported-media-type", Title: "Unsupported media type", Detail: detail}
}

// checkStrictJSON reports the first member name that appears twice in one
// object, the first string (name or value) that is not UTF-8 or holds a
// lone surrogate escape (\ud800), as a FieldError whose Field is the JSON
// pointer (RFC 6901) of the member or element concerned. data must be one
// syntactically valid JSON value (Decode has accepted it); nil when strict.
func checkStrictJSON(data []byte) *FieldError {
	s := strictScanner{data: data}
	s.value("")
	return s.err
}

type strictScanner struct {
	data []byte
	pos  int
	err  *FieldError
}

func (s *strictScanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *strictScanner) fail(ptr, msg string) {
	if s.err == nil {
		s.err = &FieldError{Field: ptr, Message: msg}
	}
}

// value scans the value at s.pos, whose pointer is ptr.
func (s *strictScanner) value(ptr string) {
	s.space()
	if s.err != nil || s.pos >= len(s.data) {
		return
	}
	switch s.data[s.pos] {
	case '{':
		s.pos++
		seen := map[string]bool{}
		for {
			s.space()
			if s.err != nil || s.pos >= len(s.data) {
				return
			}
			if s.data[s.pos] == '}' {
				s.pos++
				return
			}
			if s.data[s.pos] == ',' {
				s.pos++
				continue
			}
			name, ok := s.str()
			if !ok {
				s.fail(ptr, "a member name is not valid UTF-8 (or holds a lone surrogate)")
				return
			}
			member := ptr + "/" + escapePointer(name)
			if seen[name] {
				s.fail(member, "the member "+strconv.Quote(name)+" appears more than once")
				return
			}
			seen[name] = true
			s.space()
			s.pos++ // ':'
			s.value(member)
		}
	case '[':
		s.pos++
		for i := 0; ; {
			s.space()
			if s.err != nil || s.pos >= len(s.data) {
				return
			}
			switch s.data[s.pos] {
			case ']':
				s.pos++
				return
			case ',':
				s.pos++
				i++
				continue
			}
			s.value(ptr + "/" + strconv.Itoa(i))
		}
	case '"':
		if _, ok := s.str(); !ok {
			s.fail(ptr, "the string is not valid UTF-8 (or holds a lone surrogate)")
		}
	default: // number, true, false, null
		for s.pos < len(s.data) && !strings.ContainsRune(" \t\n\r,]}", rune(s.data[s.pos])) {
			s.pos++
		}
	}
}

// str scans the string at s.pos and returns it unescaped; ok is false when
// it is not UTF-8 or a \u escape is half of a surrogate pair alone.
func (s *strictScanner) str() (string, bool) {
	s.pos++ // opening quote
	var b strings.Builder
	ok := true
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return b.String(), ok
		case c == '\\':
			if s.pos+1 >= len(s.data) {
				s.pos = len(s.data)
				return b.String(), ok
			}
			e := s.data[s.pos+1]
			s.pos += 2
			if e != 'u' {
				b.WriteByte(unescapeJSON(e))
				continue
			}
			r1 := s.hex4()
			if !utf16.IsSurrogate(r1) {
				b.WriteRune(r1)
				continue
			}
			if s.pos+1 < len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
				save := s.pos
				s.pos += 2
				if r := utf16.DecodeRune(r1, s.hex4()); r != utf8.RuneError {
					b.WriteRune(r)
					continue
				}
				s.pos = save
			}
			ok = false
		default:
			r, n := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && n <= 1 {
				ok = false
			}
			b.Write(s.data[s.pos : s.pos+n])
			s.pos += n
		}
	}
	return b.String(), ok
}

// hex4 reads the four hex digits of a \u escape (valid: Decode checked them).
func (s *strictScanner) hex4() rune {
	if s.pos+4 > len(s.data) {
		s.pos = len(s.data)
		return utf8.RuneError
	}
	v, err := strconv.ParseUint(string(s.data[s.pos:s.pos+4]), 16, 32)
	s.pos += 4
	if err != nil {
		return utf8.RuneError
	}
	return rune(v)
}

func unescapeJSON(e byte) byte {
	switch e {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	default: // " \ /
		return e
	}
}

// escapePointer escapes a member name as one JSON pointer token (RFC 6901).
func escapePointer(name string) string {
	return strings.ReplaceAll(strings.ReplaceAll(name, "~", "~0"), "/", "~1")
}

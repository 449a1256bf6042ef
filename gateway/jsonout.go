package gateway

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// JSON answers carry &, < and > as they are: encoding/json's default HTML
// escaping (\u0026, \u003c, \u003e) protects JSON pasted into an HTML page,
// which no answer here is, and makes a login "a&b" read differently in the
// body than in the request. The gateway's own encoders turn it off
// (marshalJSON, jsonSerializer, listResponse). The generated strict
// handlers encode with json.NewEncoder and no way to configure it, so their
// answers pass through htmlUnescaper, installed on every request that
// reaches a handler (handle).

// marshalJSON is json.Marshal without HTML escaping.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// jsonSerializer is Echo's JSON serializer (c.JSON) without HTML escaping.
type jsonSerializer struct{ echo.DefaultJSONSerializer }

func (jsonSerializer) Serialize(c echo.Context, i any, indent string) error {
	enc := json.NewEncoder(c.Response())
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc.Encode(i)
}

// htmlUnescaper writes a JSON body with encoding/json's HTML escapes
// (exactly \u003c, \u003e and \u0026, the spelling it uses) turned back
// into <, > and &. Any other escape is copied as it is, \\u003c among
// them: an escaped backslash followed by text. A body that is not JSON
// (by its Content-Type when the first byte is written) passes untouched.
// An escape split between two Writes is held back until the next one;
// valid JSON never ends inside an escape.
type htmlUnescaper struct {
	http.ResponseWriter
	decided, active bool
	pending         [5]byte // the start of an escape cut by the end of a Write
	npending        int
}

// reset points u at w for a new response.
func (u *htmlUnescaper) reset(w http.ResponseWriter) {
	*u = htmlUnescaper{ResponseWriter: w}
}

func (u *htmlUnescaper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

func (u *htmlUnescaper) Write(p []byte) (int, error) {
	if !u.decided {
		u.decided = true
		u.active = isJSONMediaType(u.Header().Get("Content-Type"))
	}
	if !u.active {
		return u.ResponseWriter.Write(p)
	}
	data := p
	if u.npending > 0 {
		// Rare (an escape cut between two Writes of a streamed body): join
		// the held-back start and p.
		data = append(append(make([]byte, 0, u.npending+len(p)), u.pending[:u.npending]...), p...)
		u.npending = 0
	}
	if err := u.unescape(data); err != nil {
		return 0, err
	}
	return len(p), nil
}

// htmlLiterals are what \u003c, \u003e and \u0026 stand for.
var htmlLiterals = []byte("<>&")

// unescape writes data with the HTML escapes replaced, holding back an
// escape cut off by its end (in pending).
func (u *htmlUnescaper) unescape(data []byte) error {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\\')
		if i < 0 {
			_, err := u.ResponseWriter.Write(data)
			return err
		}
		if len(data)-i < 2 || data[i+1] == 'u' && len(data)-i < 6 {
			// An escape cut off: keep it for the next Write.
			if i > 0 {
				if _, err := u.ResponseWriter.Write(data[:i]); err != nil {
					return err
				}
			}
			u.npending = copy(u.pending[:], data[i:])
			return nil
		}
		if data[i+1] != 'u' {
			// \" \\ \n …: two bytes, copied.
			if _, err := u.ResponseWriter.Write(data[:i+2]); err != nil {
				return err
			}
			data = data[i+2:]
			continue
		}
		lit := -1
		switch string(data[i+2 : i+6]) {
		case "003c":
			lit = 0
		case "003e":
			lit = 1
		case "0026":
			lit = 2
		}
		if lit < 0 {
			if _, err := u.ResponseWriter.Write(data[:i+6]); err != nil {
				return err
			}
		} else {
			if i > 0 {
				if _, err := u.ResponseWriter.Write(data[:i]); err != nil {
					return err
				}
			}
			if _, err := u.ResponseWriter.Write(htmlLiterals[lit : lit+1]); err != nil {
				return err
			}
		}
		data = data[i+6:]
	}
	return nil
}

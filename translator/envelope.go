package translator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Request is one operation for EncodeRequest / DecodeResponse. It is
// implemented only by this package's *Request types.
type Request interface {
	// Op is the operation the request is sent as.
	Op() *Op
	// build checks the request against protocol v and returns the content
	// of its operation element.
	build(v Version) (any, error)
}

// Reply is the decoded answer to one Request, of the type its Op says
// (*AddReply, *GetReply, *ResultsReply, …). ReplyAs gives it its type.
type Reply interface{ isReply() }

// replyReader is a Reply being read: each <result> of its operation
// element, in order, handed to read just opened. read decodes it, whole,
// into a wire struct of its own (DecodeElement; resultXML embedded for the
// common part): d is the answer's depth-bounded decoder (maxAnswerDepth).
//
// eachResult hands every result read so far to see, in order: the common
// part of each, whatever the reply's type (LegacyRefusalIn reads them).
type replyReader interface {
	Reply
	read(d *xml.Decoder, result *xml.StartElement) error
	eachResult(see func(Result))
}

// Result is the common per-object result (resultType / resultFilterType, §2).
type Result struct {
	Status      string // "ok" or "error"
	ErrCode     int
	ErrText     string
	FilterID    string // the filter value that produced this result (1.4.2.0+)
	HasFilterID bool
	ID          int // object ID; 0 when absent
}

// OK reports whether Status is "ok".
func (r Result) OK() bool { return r.Status == "ok" }

// Outcome is r itself: a Result is its own outcome, as each per-object
// result type's Outcome is its Result.
func (r Result) Outcome() Result { return r }

// Err returns nil for an ok result, else an *Error with its code and text.
func (r Result) Err() error {
	if r.OK() {
		return nil
	}
	return &Error{Code: r.ErrCode, Text: r.ErrText}
}

// resultXML is what every <result> (and <system>) holds: resultType's
// status, error and object id. Each operation's reply decodes its results
// into a struct of its own that embeds resultXML and adds the operation's
// elements (getResultXML, addResultXML, …). Unknown elements are ignored by
// encoding/xml. Numbers are kept as text and parsed by hand to tolerate
// surrounding whitespace and give clear errors.
type resultXML struct {
	Status   string  `xml:"status"`
	ErrCode  string  `xml:"errcode"`
	ErrText  string  `xml:"errtext"`
	FilterID *string `xml:"filter-id"`
	ID       string  `xml:"id"`
}

func (r resultXML) result() (Result, error) {
	out := Result{Status: strings.TrimSpace(r.Status), ErrText: r.ErrText}
	if out.Status != "ok" && out.Status != "error" {
		return out, fmt.Errorf("result status %q is neither ok nor error", r.Status)
	}
	var err error
	if out.ErrCode, err = optInt("errcode", r.ErrCode); err != nil {
		return out, err
	}
	if r.FilterID != nil {
		out.FilterID, out.HasFilterID = *r.FilterID, true
	}
	if out.ID, err = optInt("id", r.ID); err != nil {
		return out, err
	}
	return out, nil
}

// optInt parses an optional integer element ("" = 0).
func optInt(name, s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not an integer", name, s)
	}
	return n, nil
}

// DecodeResponse parses Plesk's answer to a packet built by
// EncodeRequest(v, reqs...) and returns one Reply per request, by position
// (§1.2 "Response order"). A <system> error returns (nil, *Error{System:
// true}). Malformed XML, another operator, an operation element that does not
// match its request, a count mismatch or an answer nested deeper than
// maxAnswerDepth returns a *ParseError: never part of an answer. Unknown
// elements inside results, whitespace, an XML declaration and a trailing
// <output> are tolerated. It never panics.
func DecodeResponse(v Version, body []byte, reqs ...Request) ([]Reply, error) {
	if err := checkDecodeRequests(reqs); err != nil {
		return nil, err
	}
	readers := make([]replyReader, len(reqs))
	for i, r := range reqs {
		readers[i] = r.Op().newReply()
	}
	err := readAnswer(v, body, reqs, func(i int, d *xml.Decoder, se *xml.StartElement) error { return readers[i].read(d, se) })
	if err != nil {
		return nil, err
	}
	replies := make([]Reply, len(readers))
	for i, r := range readers {
		replies[i] = r
	}
	return replies, nil
}

// EachGetResult reads the answer to a packet holding one get, as
// DecodeResponse(v, body, req) does and with its errors, but hands each
// result to fn as it is decoded instead of building a GetReply: a listing's
// results need never be held all at once. An error from fn stops the
// reading and is returned as it is. On any error, the results fn was given
// are not an answer: the caller must drop them.
func EachGetResult(v Version, body []byte, req *GetRequest, fn func(GetResult) error) error {
	if req == nil {
		return fmt.Errorf("%w: request 0 is nil", ErrInvalidInput)
	}
	err := readAnswer(v, body, []Request{req}, func(_ int, d *xml.Decoder, se *xml.StartElement) error {
		gr, err := getResult(d, se)
		if err != nil {
			return err
		}
		if err := fn(gr); err != nil {
			return &stopError{err}
		}
		return nil
	})
	if stop, ok := errors.AsType[*stopError](err); ok {
		return stop.err
	}
	return err
}

// stopError carries a caller's error out of readAnswer untouched.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }

// readAnswer reads Plesk's answer to reqs sent at v, calling result for
// each <result> of the i-th operation element, in order, just opened;
// result must consume it (each reply decodes it with DecodeElement), so
// that nothing but the current result is held in wire form. Errors are as
// DecodeResponse's.
func readAnswer(v Version, body []byte, reqs []Request, result func(i int, d *xml.Decoder, se *xml.StartElement) error) error {
	operator := reqs[0].Op().Operator(v)
	n := 0
	sysErr, err := walkPacket(body, func(d *xml.Decoder, se xml.StartElement) error {
		if se.Name.Local != operator {
			return fmt.Errorf("unexpected element <%s> in packet (want <%s>)", se.Name.Local, operator)
		}
		return eachChild(d, func(t xml.StartElement) error {
			if n >= len(reqs) {
				return fmt.Errorf("more operations in response than the %d requested", len(reqs))
			}
			op := reqs[n].Op()
			if t.Name.Local != op.element {
				return fmt.Errorf("operation %d is <%s>, want <%s>", n+1, t.Name.Local, op.element)
			}
			n++
			i := n - 1
			if err := readOperation(d, op, func(se *xml.StartElement) error { return result(i, d, se) }); err != nil {
				return fmt.Errorf("<%s> (operation %d): %w", t.Name.Local, n, err)
			}
			return nil
		})
	})
	if sysErr != nil {
		return sysErr
	}
	if err != nil {
		return err
	}
	if n != len(reqs) {
		return newParseError(body, -1, nil, fmt.Sprintf("response has %d operations, want %d", n, len(reqs)))
	}
	return nil
}

// readOperation reads the operation element of op just opened: each
// <result> child handed to fn, which consumes it; other children skipped.
func readOperation(d *xml.Decoder, op *Op, fn func(se *xml.StartElement) error) error {
	n := 0
	err := eachChild(d, func(se xml.StartElement) error {
		if se.Name.Local != "result" {
			return d.Skip()
		}
		if n++; op.oneResult && n > 1 {
			return fmt.Errorf("%s has more than 1 result", op.element)
		}
		return fn(&se)
	})
	if err == nil && op.oneResult && n != 1 {
		err = fmt.Errorf("%s has %d results, want 1", op.element, n)
	}
	return err
}

// checkDecodeRequests: an answer is matched against at least one request,
// and none is nil.
func checkDecodeRequests(reqs []Request) error {
	if len(reqs) == 0 {
		return fmt.Errorf("%w: no requests to match the response against", ErrInvalidInput)
	}
	for i, r := range reqs {
		if r == nil {
			return fmt.Errorf("%w: request %d is nil", ErrInvalidInput, i)
		}
	}
	return nil
}

// maxAnswerDepth bounds how deeply an answer's elements may nest. Plesk's
// answers are shallow: the deepest this package reads is a descriptor's
// enum value, 8 levels down (packet, client, get-limit-descriptor, result,
// descriptor, property, enum, value), and the recorded answers are no
// deeper. An answer nested deeper than this is refused as malformed, whole:
// encoding/xml keeps every open element on a stack, so without a bound a
// hostile panel's 14 MB answer of nested elements costs hundreds of MiB,
// and what lies below a known element would be dropped unread.
const maxAnswerDepth = 64

// errTooDeep is the cause of the ParseError for an answer nested deeper
// than maxAnswerDepth.
var errTooDeep = fmt.Errorf("elements nested deeper than %d", maxAnswerDepth)

// depthBound is the token source of every answer's decoder: the raw tokens
// of the body, refused past maxAnswerDepth open elements. The decoder on
// top of it still checks that start and end tags match.
type depthBound struct {
	raw   *xml.Decoder
	depth int
}

func (b *depthBound) Token() (xml.Token, error) {
	tok, err := b.raw.RawToken()
	switch tok.(type) {
	case xml.StartElement:
		if b.depth++; b.depth > maxAnswerDepth {
			return nil, errTooDeep
		}
	case xml.EndElement:
		b.depth--
	}
	return tok, err
}

// walkPacket reads a response <packet> and calls fn for each child element
// other than <system> and <output>, positioned just after its start tag; fn
// must consume the element. A <system> error is returned as *Error (it wins
// over later trouble, since nothing ran, §1.3). Every other failure is a
// *ParseError.
func walkPacket(body []byte, fn func(d *xml.Decoder, se xml.StartElement) error) (*Error, error) {
	raw := xml.NewDecoder(bytes.NewReader(body))
	d := xml.NewTokenDecoder(&depthBound{raw: raw})
	fail := func(err error, msg string) error {
		var pe *ParseError
		if errors.As(err, &pe) {
			return pe
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return newParseError(body, raw.InputOffset(), err, msg)
	}
	// The root element.
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, newParseError(body, -1, nil, "no packet element")
			}
			return nil, fail(err, "reading packet")
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "packet" {
				return nil, fail(nil, fmt.Sprintf("root element is <%s>, want <packet>", se.Name.Local))
			}
			break
		}
		if cd, ok := tok.(xml.CharData); ok && len(bytes.TrimSpace(cd)) > 0 {
			return nil, fail(nil, "text before packet")
		}
	}
	var sysErr *Error
	for done := false; !done; {
		tok, err := d.Token()
		if err != nil {
			return sysErr, fail(err, "reading packet")
		}
		switch t := tok.(type) {
		case xml.EndElement:
			done = true
		case xml.StartElement:
			switch t.Name.Local {
			case "system":
				var r resultXML
				if err := d.DecodeElement(&r, &t); err != nil {
					return sysErr, fail(err, "reading system")
				}
				res, err := r.result()
				if err != nil || res.OK() {
					if err == nil {
						err = errors.New("system element with status ok")
					}
					return sysErr, fail(err, "reading system")
				}
				sysErr = &Error{Code: res.ErrCode, Text: res.ErrText, System: true}
			case "output":
				if err := d.Skip(); err != nil {
					return sysErr, fail(err, "reading output")
				}
			default:
				if sysErr != nil {
					return sysErr, nil
				}
				if err := fn(d, t); err != nil {
					return nil, fail(err, "reading <"+t.Name.Local+">")
				}
			}
		}
	}
	// Only whitespace, comments and processing instructions may follow.
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sysErr, fail(err, "after packet")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return sysErr, fail(nil, "content after packet")
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return sysErr, fail(nil, "text after packet")
			}
		}
	}
	return sysErr, nil
}

// checkText rejects strings XML 1.0 cannot carry: invalid UTF-8 and
// characters outside the Char production (most C0 controls, U+FFFE, U+FFFF).
// encoding/xml would silently replace them, corrupting the value.
func checkText(s string) error {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("invalid UTF-8 at byte %d", i)
		}
		if !isXMLChar(r) {
			return fmt.Errorf("character %U at byte %d cannot be carried by XML 1.0", r, i)
		}
		i += size
	}
	return nil
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// textField checks an optional string field and returns it unchanged.
func textField(op Operation, name string, s *string) (*string, error) {
	if s == nil {
		return nil, nil
	}
	if err := checkText(*s); err != nil {
		return nil, fmt.Errorf("%w: %s: %s: %v", ErrInvalidInput, op, name, err)
	}
	return s, nil
}

// requiredText checks a required, non-blank string field.
func requiredText(op Operation, name, s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%w: %s: %s is required", ErrInvalidInput, op, name)
	}
	if err := checkText(s); err != nil {
		return fmt.Errorf("%w: %s: %s: %v", ErrInvalidInput, op, name, err)
	}
	return nil
}

// ResultsReply answers del, set, convert-to-reseller and change-owner: one
// result per matched object.
type ResultsReply struct{ Results []Result }

func (*ResultsReply) isReply() {}

func newResultsReply() replyReader { return &ResultsReply{Results: []Result{}} }

func (rr *ResultsReply) eachResult(see func(Result)) {
	for _, r := range rr.Results {
		see(r)
	}
}

func (rr *ResultsReply) read(d *xml.Decoder, se *xml.StartElement) error {
	var r resultXML
	if err := d.DecodeElement(&r, se); err != nil {
		return err
	}
	res, err := r.result()
	if err != nil {
		return err
	}
	rr.Results = append(rr.Results, res)
	return nil
}

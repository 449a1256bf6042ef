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
	// Operation is the capability the request needs (for PickVersion and errors).
	Operation() Operation
	// element is the Plesk operation element name, in requests and responses.
	element() string
	// build checks the request against protocol v and returns its wire value.
	build(v Version) (any, error)
	// reply turns the decoded results of its operation element into a Reply.
	reply(results []resultXML) (Reply, error)
}

// Reply is the decoded answer to one Request: *AddReply, *GetReply,
// *ResultsReply, *IPPoolReply, *ButtonsReply or *DescriptorReply.
type Reply interface{ isReply() }

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

// Err returns nil for an ok result, else an *Error with its code and text.
func (r Result) Err() error {
	if r.OK() {
		return nil
	}
	return &Error{Code: r.ErrCode, Text: r.ErrText}
}

// resultXML is the union of every <result> shape of the client/customer
// operator; each reply type reads the parts it needs. Unknown elements are
// ignored by encoding/xml. Numbers are kept as text and parsed by hand to
// tolerate surrounding whitespace and give clear errors.
type resultXML struct {
	Status     string         `xml:"status"`
	ErrCode    string         `xml:"errcode"`
	ErrText    string         `xml:"errtext"`
	FilterID   *string        `xml:"filter-id"`
	ID         string         `xml:"id"`
	GUID       string         `xml:"guid"`
	IPAddress  *string        `xml:"ip_address"`
	ClientID   string         `xml:"client_id"`
	CustomerID string         `xml:"customer-id"` // XSD-1.6.6 leftover spelling of client_id (§7.5)
	Data       *dataXML       `xml:"data"`
	Buttons    []buttonXML    `xml:"button"`
	Descriptor *descriptorXML `xml:"descriptor"`
}

type opXML struct {
	Results []resultXML `xml:"result"`
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
// match its request, or a count mismatch returns a *ParseError. Unknown
// elements inside results, whitespace, an XML declaration and a trailing
// <output> are tolerated. It never panics.
func DecodeResponse(v Version, body []byte, reqs ...Request) ([]Reply, error) {
	if err := checkDecodeRequests(reqs); err != nil {
		return nil, err
	}
	// The fast path (fastdecode.go) decodes the common answers with a few
	// allocations; anything it does not handle, including every error, is
	// decoded by encoding/xml, the reference.
	if replies, ok := fastDecodeResponse(v, body, reqs); ok {
		return replies, nil
	}
	return decodeResponseXML(v, body, reqs)
}

// decodeResponseXML is DecodeResponse with encoding/xml: the reference the
// fast path is tested against, and the decoder of whatever it leaves.
func decodeResponseXML(v Version, body []byte, reqs []Request) ([]Reply, error) {
	operator := v.Dialect().Operator()
	replies := make([]Reply, 0, len(reqs))
	sysErr, err := walkPacket(body, func(d *xml.Decoder, se xml.StartElement) error {
		if se.Name.Local != operator {
			return fmt.Errorf("unexpected element <%s> in packet (want <%s>)", se.Name.Local, operator)
		}
		for {
			tok, err := d.Token()
			if err != nil {
				return err
			}
			switch t := tok.(type) {
			case xml.EndElement:
				return nil
			case xml.StartElement:
				i := len(replies)
				if i >= len(reqs) {
					return fmt.Errorf("more operations in response than the %d requested", len(reqs))
				}
				if t.Name.Local != reqs[i].element() {
					return fmt.Errorf("operation %d is <%s>, want <%s>", i+1, t.Name.Local, reqs[i].element())
				}
				var op opXML
				if err := d.DecodeElement(&op, &t); err != nil {
					return err
				}
				rep, err := reqs[i].reply(op.Results)
				if err != nil {
					return fmt.Errorf("<%s> (operation %d): %w", t.Name.Local, i+1, err)
				}
				replies = append(replies, rep)
			}
		}
	})
	if sysErr != nil {
		return nil, sysErr
	}
	if err != nil {
		return nil, err
	}
	if len(replies) != len(reqs) {
		return nil, newParseError(body, -1, nil, fmt.Sprintf("response has %d operations, want %d", len(replies), len(reqs)))
	}
	return replies, nil
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

// walkPacket reads a response <packet> and calls fn for each child element
// other than <system> and <output>, positioned just after its start tag; fn
// must consume the element. A <system> error is returned as *Error (it wins
// over later trouble, since nothing ran, §1.3). Every other failure is a
// *ParseError.
func walkPacket(body []byte, fn func(d *xml.Decoder, se xml.StartElement) error) (*Error, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	fail := func(err error, msg string) error {
		var pe *ParseError
		if errors.As(err, &pe) {
			return pe
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return newParseError(body, d.InputOffset(), err, msg)
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

func resultsReply(results []resultXML) (Reply, error) {
	out := &ResultsReply{Results: make([]Result, 0, len(results))}
	for _, r := range results {
		res, err := r.result()
		if err != nil {
			return nil, err
		}
		out.Results = append(out.Results, res)
	}
	return out, nil
}

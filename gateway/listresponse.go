package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

// listResponse is a page of GET /clients written as it is encoded. The
// generated api.ListClients200JSONResponse encodes the whole api.ClientList
// into one buffer, grown by doubling, before writing it: for a page of 1,000
// clients that is an api.Client per item and about twice the body in
// buffers, all alive at once. listResponse converts one client at a time to
// api.Client and encodes it with encoding/json, as the generated response
// does (same fields in the same order), into a small buffer that goes out
// in chunks of listWriteBuffer bytes. The body is byte for byte the
// generated one, {"items":[…],"next_cursor":…} and a newline, except that
// &, < and > are not escaped (jsonout.go).
//
// Every upstream error happens before the handler returns this value, so
// it becomes a problem answer as before. The status line and headers are
// only written with the first chunk: an encoding error before then (none
// is possible for these types) still reaches the error handler uncommitted.
type listResponse struct {
	recs []translator.GetResult
	inc  include
	next *string // next_cursor; nil on the last page
	link *string // the Link header; nil on the last page
}

// listWriteBuffer is how much of the body is held before it is written.
const listWriteBuffer = 16 << 10

func (r listResponse) VisitListClientsResponse(w http.ResponseWriter) error {
	bw := bufio.NewWriterSize(&okOnFirstWrite{w: w, link: r.link}, listWriteBuffer)
	var item bytes.Buffer
	enc := json.NewEncoder(&item)
	enc.SetEscapeHTML(false) // as every JSON answer (jsonout.go)
	// encode leaves v's JSON in item, without the newline Encode adds.
	encode := func(v any) ([]byte, error) {
		item.Reset()
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(item.Bytes(), []byte{'\n'}), nil
	}
	// One api.Client and one set of its optional strings serve every item:
	// each is encoded before the next is converted.
	c := new(api.Client)
	scratch := make([]string, 0, optionalStrings)
	_, _ = bw.WriteString(`{"items":[`)
	n := 0
	var err error
	writeItem := func(rec *translator.GetResult) bool {
		*c = toAPIClientResult(rec, r.inc, scratch)
		var b []byte
		if b, err = encode(c); err != nil {
			return false
		}
		if n > 0 {
			_ = bw.WriteByte(',')
		}
		n++
		_, _ = bw.Write(b)
		return true
	}
	for i := range r.recs {
		if !writeItem(&r.recs[i]) {
			break
		}
	}
	if err != nil {
		return err
	}
	_ = bw.WriteByte(']')
	if r.next != nil {
		b, err := encode(*r.next)
		if err != nil {
			return err
		}
		_, _ = bw.WriteString(`,"next_cursor":`)
		_, _ = bw.Write(b)
	}
	_, _ = bw.WriteString("}\n")
	// bufio.Writer's errors are sticky: a failed write shows here.
	return bw.Flush()
}

// okOnFirstWrite sets the headers of the generated 200 answer and writes
// its status line just before the first bytes of the body.
type okOnFirstWrite struct {
	w       http.ResponseWriter
	link    *string
	started bool
}

func (o *okOnFirstWrite) Write(p []byte) (int, error) {
	if !o.started {
		o.started = true
		o.w.Header().Set("Content-Type", "application/json")
		if o.link != nil {
			o.w.Header().Set("Link", *o.link)
		}
		o.w.WriteHeader(http.StatusOK)
	}
	return o.w.Write(p)
}

package translator

import (
	"strings"
	"unsafe"
)

// DecodeResponseOwned is DecodeResponse for a body the caller hands over:
// the decoder reads it in place instead of copying it into a string first,
// so the texts of the replies are substrings of body itself (DecodeResponse
// makes one copy of the body for them). It decodes exactly as
// DecodeResponse does, with the same replies and the same errors.
//
// body must not be modified afterwards, by anyone, for as long as the
// replies (or any string taken from them) are in use: they share its
// memory, and Go strings are assumed immutable. A caller that reuses or
// pools its buffers must use DecodeResponse.
func DecodeResponseOwned(v Version, body []byte, reqs ...Request) ([]Reply, error) {
	if err := checkDecodeRequests(reqs); err != nil {
		return nil, err
	}
	if replies, ok := fastDecodeOwned(v, body, reqs); ok {
		return replies, nil
	}
	// encoding/xml copies what it keeps: body is not referenced after this.
	return decodeResponseXML(v, body, reqs)
}

// fastDecodeOwned is fastDecodeResponse over body itself, viewed as a
// string. A packet of gets (a listing) is decoded one result at a time
// (fastDecoder.perResult).
func fastDecodeOwned(v Version, body []byte, reqs []Request) (replies []Reply, ok bool) {
	f := newFastDecoderOwned(body)
	f.perResult = true
	for _, r := range reqs {
		if _, ok := r.(*GetRequest); !ok {
			f.perResult = false
		}
	}
	return f.decode(v, reqs)
}

// getOperation reads one get operation element into its reply, result by
// result; any result the conversion refuses falls back to encoding/xml,
// which reports the error.
func (f *fastDecoder) getOperation(name string, req *GetRequest) (*GetReply, bool) {
	// "<result" also counts <results…> elements: an upper bound.
	n := max(strings.Count(f.sc.s[f.sc.pos:], "<result"), 1)
	out := &GetReply{Results: make([]GetResult, 0, n)}
	var one [1]resultXML
	for {
		switch f.sc.next() {
		case tokText:
		case tokEnd:
			return out, f.sc.name == name
		case tokStart:
			if f.sc.name != "result" {
				if !f.skip(f.sc.name) {
					return nil, false
				}
				continue
			}
			f.reuseSlabs()
			one[0] = resultXML{}
			if !f.result(&one[0]) {
				return nil, false
			}
			gr, ok := getResult(req, one[:])
			if !ok {
				return nil, false
			}
			out.Results = append(out.Results, gr)
		default:
			return nil, false
		}
	}
}

// reuseSlabs empties the decoder's slabs for the next result: what the last
// one held has been converted (the reply keeps no pointer into them: texts
// are copied out, and the blocks stat, limits, permissions and ippool are
// allocated on their own, not carved from slabs).
func (f *fastDecoder) reuseSlabs() {
	clear(f.datas[:cap(f.datas)])
	f.datas = f.datas[:0]
	clear(f.infos[:cap(f.infos)])
	f.infos = f.infos[:0]
	clear(f.strs[:cap(f.strs)])
	f.strs = f.strs[:0]
}

// getResult converts one result as GetRequest.reply does. A result with
// general info only (a listing's) is converted here, without reply's
// per-call allocations; any other goes through reply itself.
func getResult(req *GetRequest, one []resultXML) (GetResult, bool) {
	r := &one[0]
	if d := r.Data; d != nil && (d.Stat != nil || d.Permissions != nil || d.Limits != nil || d.IPPool != nil) {
		rep, err := req.reply(one)
		if err != nil {
			return GetResult{}, false
		}
		return rep.(*GetReply).Results[0], true
	}
	res, err := r.result()
	if err != nil {
		return GetResult{}, false
	}
	gr := GetResult{Result: res}
	if r.Data != nil && r.Data.GenInfo != nil {
		if gr.Client, err = r.Data.GenInfo.info(); err != nil {
			return GetResult{}, false
		}
	}
	return gr, true
}

// newFastDecoderOwned is newFastDecoder without the copy: the scanner reads
// body through a string that shares its memory.
func newFastDecoderOwned(body []byte) *fastDecoder {
	return fastDecoderOver(unsafe.String(unsafe.SliceData(body), len(body)))
}

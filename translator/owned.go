package translator

import (
	"fmt"
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
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%w: no requests to match the response against", ErrInvalidInput)
	}
	for i, r := range reqs {
		if r == nil {
			return nil, fmt.Errorf("%w: request %d is nil", ErrInvalidInput, i)
		}
	}
	if replies, ok := fastDecodeOwned(v, body, reqs); ok {
		return replies, nil
	}
	// encoding/xml copies what it keeps: body is not referenced after this.
	return decodeResponseXML(v, body, reqs)
}

// fastDecodeOwned is fastDecodeResponse over body itself, viewed as a string.
func fastDecodeOwned(v Version, body []byte, reqs []Request) (replies []Reply, ok bool) {
	f := newFastDecoderOwned(body)
	operator := v.Dialect().Operator()
	ok = f.packet(operator, func() bool {
		replies, ok = f.operator(operator, replies, reqs)
		return ok
	})
	if !ok || len(replies) != len(reqs) {
		return nil, false
	}
	return replies, true
}

// newFastDecoderOwned is newFastDecoder without the copy: the scanner reads
// body through a string that shares its memory.
func newFastDecoderOwned(body []byte) *fastDecoder {
	s := unsafe.String(unsafe.SliceData(body), len(body))
	i := 0
	for _, d := range xmlDecls {
		if strings.HasPrefix(s, d) {
			i = len(d)
			break
		}
	}
	return &fastDecoder{sc: scanner{s: s, pos: i}, nres: 1}
}

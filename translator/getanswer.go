package translator

import (
	"bytes"
	"fmt"
	"strings"
)

// GetAnswer is the answer to a packet holding one get, checked but kept
// undecoded: its results are decoded again, one at a time, by Each. A page
// of a listing is then, besides its text, only its ids: the results of 1,000
// clients (a GetResult and a ClientInfo each, about as large again as the
// body) are never all in memory at once.
type GetAnswer struct {
	v      Version
	text   string // the body, copied once: the texts Each hands out point into it
	req    *GetRequest
	ids    []int    // of the ok results, in order
	failed []Result // the other results, in order
	reply  *GetReply
}

// DecodeGet checks the answer to a packet holding one get as
// DecodeResponse(v, body, req) decodes it, with the same errors, and
// returns it with the ids of its ok results and its other results. The
// answer keeps its own copy of body: the caller may reuse body afterwards.
//
// Answers the fast path does not take are decoded whole by encoding/xml
// when checked; Each then iterates that reply.
func DecodeGet(v Version, body []byte, req *GetRequest) (*GetAnswer, error) {
	if req == nil {
		return nil, fmt.Errorf("%w: request 0 is nil", ErrInvalidInput)
	}
	// "<result" also counts <results…> elements: an upper bound.
	a := &GetAnswer{v: v, text: string(body), req: req, ids: make([]int, 0, bytes.Count(body, []byte("<result")))}
	ok := a.scan(func(gr *GetResult) bool {
		if gr.Result.OK() {
			a.ids = append(a.ids, gr.Result.ID)
		} else {
			a.failed = append(a.failed, gr.Result)
		}
		return true
	})
	if ok {
		return a, nil
	}
	a.ids, a.failed, a.text = nil, nil, ""
	replies, err := decodeResponseXML(v, body, []Request{req})
	if err != nil {
		return nil, err
	}
	a.reply = replies[0].(*GetReply)
	for _, r := range a.reply.Results {
		if r.Result.OK() {
			a.ids = append(a.ids, r.Result.ID)
		} else {
			a.failed = append(a.failed, r.Result)
		}
	}
	return a, nil
}

// IDs returns the ids of the ok results, in the answer's order.
func (a *GetAnswer) IDs() []int { return a.ids }

// Failed returns the results that are not ok, in the answer's order.
func (a *GetAnswer) Failed() []Result { return a.failed }

// Each calls fn with every result, ok or not, in the answer's order, until
// fn returns false. The GetResult and its Client are reused from one call
// to the next: fn must copy what it keeps (Clone; Stat, Limits, Permissions
// and IPPool are not reused).
func (a *GetAnswer) Each(fn func(*GetResult) bool) {
	if a.reply != nil {
		for i := range a.reply.Results {
			if !fn(&a.reply.Results[i]) {
				return
			}
		}
		return
	}
	// The text was taken by the fast path when checked: it is again.
	a.scan(fn)
}

// scan decodes the text with the fast path, calling fn with each result as
// it is read; false when the fast path does not take the text (fn may have
// been called for some results by then) or fn stopped it.
func (a *GetAnswer) scan(fn func(*GetResult) bool) bool {
	f := fastDecoderOver(a.text)
	var (
		one   [1]resultXML
		gr    GetResult
		ci    ClientInfo
		owner int
	)
	return f.operations(a.v, []Request{a.req}, func(_ int, name string) bool {
		return f.eachResult(name, func() bool {
			f.reuseSlabs()
			one[0] = resultXML{}
			return f.result(&one[0]) && getResultInto(a.req, one[:], &gr, &ci, &owner) && fn(&gr)
		})
	})
}

// reuseSlabs empties the decoder's slabs for the next result: what the last
// one held has been converted (a GetResult keeps no pointer into them: texts
// are substrings or copies, and the blocks stat, limits, permissions and
// ippool are allocated on their own, not carved from slabs).
func (f *fastDecoder) reuseSlabs() {
	clear(f.datas[:cap(f.datas)])
	f.datas = f.datas[:0]
	clear(f.infos[:cap(f.infos)])
	f.infos = f.infos[:0]
	clear(f.strs[:cap(f.strs)])
	f.strs = f.strs[:0]
}

// getResultInto converts one result (one[0]) as GetRequest.reply does, into gr. A
// result with general info only (a listing's) has it converted into ci (its
// owner id into owner) rather than a new ClientInfo; any other goes through
// reply itself.
func getResultInto(req *GetRequest, one []resultXML, gr *GetResult, ci *ClientInfo, owner *int) bool {
	r := &one[0]
	if d := r.Data; d != nil && (d.Stat != nil || d.Permissions != nil || d.Limits != nil || d.IPPool != nil) {
		rep, err := req.reply(one)
		if err != nil {
			return false
		}
		*gr = rep.(*GetReply).Results[0]
		return true
	}
	res, err := r.result()
	if err != nil {
		return false
	}
	*gr = GetResult{Result: res}
	if r.Data != nil && r.Data.GenInfo != nil {
		if err := r.Data.GenInfo.infoInto(ci, owner); err != nil {
			return false
		}
		gr.Client = ci
	}
	return true
}

// infoInto converts gen_info into ci, the owner id in owner (ci.OwnerID then
// points at it); genInfoXML.info is built on it.
func (g *genInfoXML) infoInto(ci *ClientInfo, owner *int) error {
	status, err := optInt("status", g.Status)
	if err != nil {
		return err
	}
	*ci = ClientInfo{
		CreatedDate: strings.TrimSpace(g.CrDate), Company: g.Cname, Name: g.Pname, Login: g.Login,
		Status: Status(status), Phone: g.Phone, Fax: g.Fax, Email: g.Email, Address: g.Address,
		City: g.City, State: g.State, PostalCode: g.Pcode, Country: g.Country, Locale: g.Locale,
		GUID: g.GUID, OwnerLogin: g.OwnerLogin, VendorGUID: g.VendorGUID,
		ExternalID: g.ExternalID, Description: g.Description,
	}
	if g.OwnerID != nil && strings.TrimSpace(*g.OwnerID) != "" {
		n, err := optInt("owner-id", *g.OwnerID)
		if err != nil {
			return err
		}
		*owner = n
		ci.OwnerID = owner
	}
	return nil
}

// Clone returns a copy of r that shares nothing Each reuses: the Client and
// its owner id are copied (the other blocks are never reused).
func (r *GetResult) Clone() GetResult {
	c := *r
	if r.Client != nil {
		box := new(struct {
			ci    ClientInfo
			owner int
		})
		box.ci = *r.Client
		if r.Client.OwnerID != nil {
			box.owner = *r.Client.OwnerID
			box.ci.OwnerID = &box.owner
		}
		c.Client = &box.ci
	}
	return c
}

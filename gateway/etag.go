package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/pleskgate/pleskgate/translator"
)

// clientInfoETag is a client's validator computed from its fields directly
// (docs/BENCHMARKS.md §5.1), in etagOf's format ("…24 hex digits…"): no
// JSON encoding of the record, and no heap allocation but the result.
// Every field of translator.ClientInfo and the id go in, each with its length, so the value changes whenever any of them does and
// two different records cannot run together into one input
// (TestClientInfoETagCoversEveryField walks the struct to keep it so).
func clientInfoETag(id int, in *translator.ClientInfo) string {
	var stack [512]byte
	b := stack[:0]
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, 0)
	for _, s := range [...]string{
		in.CreatedDate, in.Company, in.Name, in.Login,
		in.Phone, in.Fax, in.Email, in.Address, in.City, in.State, in.PostalCode, in.Country, in.Locale,
		in.GUID, in.OwnerLogin, in.VendorGUID, in.ExternalID, in.Description,
	} {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	b = strconv.AppendInt(b, int64(in.Status), 10)
	b = append(b, 0)
	if in.OwnerID != nil {
		b = append(b, 'o')
		b = strconv.AppendInt(b, int64(*in.OwnerID), 10)
	}
	sum := sha256.Sum256(b)
	var out [26]byte
	out[0], out[25] = '"', '"'
	hex.Encode(out[1:25], sum[:12])
	return string(out[:])
}

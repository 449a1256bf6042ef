package translator

import (
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
)

// getProtosRequest is the server/get_protos packet. It carries no version
// attribute so any Plesk answers it (§1.2: the latest version is used).
const getProtosRequest = `<packet><server><get_protos></get_protos></server></packet>`

// EncodeGetProtos builds <packet><server><get_protos/></server></packet>,
// which asks Plesk for the protocol versions it speaks (both dialects).
func EncodeGetProtos() []byte { return []byte(getProtosRequest) }

// DecodeGetProtos reads the answer to EncodeGetProtos: the listed versions,
// ascending, without duplicates. A <system> error is a *Error with System
// set; an operation error a *Error; anything unreadable a *ParseError.
func DecodeGetProtos(body []byte) ([]Version, error) {
	if protos, ok := fastGetProtos(body); ok {
		return protoVersions(body, protos)
	}
	return decodeGetProtosXML(body)
}

// decodeGetProtosXML is DecodeGetProtos with encoding/xml (the fast path's
// reference and fallback).
func decodeGetProtosXML(body []byte) ([]Version, error) {
	var protos []string
	var opErr error
	seen := false
	sysErr, err := walkPacket(body, func(d *xml.Decoder, se xml.StartElement) error {
		if se.Name.Local != "server" {
			return fmt.Errorf("unexpected element <%s> in packet (want <server>)", se.Name.Local)
		}
		var srv struct {
			GetProtos []struct {
				Results []struct {
					resultXML
					Protos []string `xml:"protos>proto"`
				} `xml:"result"`
			} `xml:"get_protos"`
		}
		if err := d.DecodeElement(&srv, &se); err != nil {
			return err
		}
		for _, gp := range srv.GetProtos {
			for _, r := range gp.Results {
				res, err := r.result()
				if err != nil {
					return err
				}
				seen = true
				if !res.OK() {
					opErr = res.Err()
					continue
				}
				protos = append(protos, r.Protos...)
			}
		}
		return nil
	})
	if sysErr != nil {
		return nil, sysErr
	}
	if err != nil {
		return nil, err
	}
	if opErr != nil {
		return nil, opErr
	}
	if !seen {
		return nil, newParseError(body, -1, nil, "no server/get_protos/result")
	}
	return protoVersions(body, protos)
}

// protoVersions parses the listed versions, sorted, without duplicates.
func protoVersions(body []byte, protos []string) ([]Version, error) {
	out := make([]Version, 0, len(protos))
	for _, p := range protos {
		v, err := ParseVersion(strings.TrimSpace(p))
		if err != nil {
			return nil, newParseError(body, -1, err, "bad proto")
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Compare(out[j]) < 0 })
	uniq := out[:0]
	for _, v := range out {
		if len(uniq) == 0 || v.Compare(uniq[len(uniq)-1]) != 0 {
			uniq = append(uniq, v)
		}
	}
	return uniq, nil
}

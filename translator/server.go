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

// serverInfoRequest asks for the license key, general information and
// statistics: what real client libraries call before anything else (§15).
const serverInfoRequest = `<packet><server><get><key></key><gen_info></gen_info><stat></stat></get></server></packet>`

// encodeServerInfo builds <packet><server><get> with key, gen_info and stat.
func encodeServerInfo() []byte { return []byte(serverInfoRequest) }

// serverInfo is what decodeServerInfo reads of a server get answer: the
// panel version (stat/version/plesk_version, e.g. "11.5.30" in REC-1), the
// server's name and GUID (gen_info) and the license key's properties.
type serverInfo struct {
	PleskVersion string
	ServerName   string
	ServerGUID   string
	Key          map[string]string
}

// decodeServerInfo reads the answer to encodeServerInfo (or to a server get
// with any of its parts). Errors as DecodeGetProtos. Unexported: the gateway
// sends no server get; this holds the recorded server answer (§15) to a golden
// test.
func decodeServerInfo(body []byte) (serverInfo, error) {
	var info serverInfo
	var opErr error
	seen := false
	sysErr, err := walkPacket(body, func(d *xml.Decoder, se xml.StartElement) error {
		if se.Name.Local != "server" {
			return fmt.Errorf("unexpected element <%s> in packet (want <server>)", se.Name.Local)
		}
		var srv struct {
			Get []struct {
				Results []struct {
					resultXML
					Key []struct {
						Name  string `xml:"name"`
						Value string `xml:"value"`
					} `xml:"key>property"`
					ServerName   string `xml:"gen_info>server_name"`
					ServerGUID   string `xml:"gen_info>server_guid"`
					PleskVersion string `xml:"stat>version>plesk_version"`
				} `xml:"result"`
			} `xml:"get"`
		}
		if err := d.DecodeElement(&srv, &se); err != nil {
			return err
		}
		for _, g := range srv.Get {
			for _, r := range g.Results {
				res, err := r.result()
				if err != nil {
					return err
				}
				seen = true
				if !res.OK() {
					opErr = res.Err()
					continue
				}
				info.PleskVersion = strings.TrimSpace(r.PleskVersion)
				info.ServerName = strings.TrimSpace(r.ServerName)
				info.ServerGUID = strings.TrimSpace(r.ServerGUID)
				for _, p := range r.Key {
					if info.Key == nil {
						info.Key = map[string]string{}
					}
					info.Key[strings.TrimSpace(p.Name)] = strings.TrimSpace(p.Value)
				}
			}
		}
		return nil
	})
	switch {
	case sysErr != nil:
		return serverInfo{}, sysErr
	case err != nil:
		return serverInfo{}, err
	case opErr != nil:
		return serverInfo{}, opErr
	case !seen:
		return serverInfo{}, newParseError(body, -1, nil, "no server/get/result")
	}
	return info, nil
}

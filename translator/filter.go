package translator

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// FilterKind is the child element kind of a client/customer <filter> (§4).
type FilterKind string

// Filter kinds; the value is the element name.
const (
	FilterID         FilterKind = "id"
	FilterLogin      FilterKind = "login"
	FilterGUID       FilterKind = "guid"
	FilterExternalID FilterKind = "external-id"
	FilterOwnerID    FilterKind = "owner-id"
	FilterOwnerLogin FilterKind = "owner-login"
)

// Filter selects clients. One kind per filter (Plesk cannot mix kinds, §4.1);
// each value yields one <result>. The zero Filter, or one without values, is
// the blank filter <filter/>: every client visible to the caller.
type Filter struct {
	Kind   FilterKind
	Values []string
}

// ByID filters by client ID.
func ByID(ids ...int) Filter {
	vals := make([]string, len(ids))
	for i, id := range ids {
		vals[i] = strconv.Itoa(id)
	}
	return Filter{Kind: FilterID, Values: vals}
}

// ByLogin filters by login.
func ByLogin(logins ...string) Filter { return Filter{Kind: FilterLogin, Values: logins} }

// ByGUID filters by GUID (1.6.3.0+).
func ByGUID(guids ...string) Filter { return Filter{Kind: FilterGUID, Values: guids} }

// ByExternalID filters by external ID (1.6.3.0+).
func ByExternalID(ids ...string) Filter { return Filter{Kind: FilterExternalID, Values: ids} }

// ByOwnerID filters by owner ID (1.6.0.0+).
func ByOwnerID(ids ...int) Filter {
	f := ByID(ids...)
	f.Kind = FilterOwnerID
	return f
}

// ByOwnerLogin filters by owner login (1.6.0.0+).
func ByOwnerLogin(logins ...string) Filter { return Filter{Kind: FilterOwnerLogin, Values: logins} }

// IsBlank reports whether f selects everything.
func (f Filter) IsBlank() bool { return len(f.Values) == 0 }

// filterXML is <filter> with its single kind of child. encoding/xml cannot
// name elements from data, hence MarshalXML.
type filterXML struct {
	kind   FilterKind
	values []string
}

func (f filterXML) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	start = xml.StartElement{Name: xml.Name{Local: "filter"}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, v := range f.values {
		if err := e.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: string(f.kind)}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// buildFilter checks f against protocol v for operation op and returns its
// wire form. A kind v lacks is an *UnsupportedError; a bad value wraps
// ErrInvalidInput. Numeric kinds are written in canonical decimal form.
func buildFilter(v Version, op Operation, f Filter) (filterXML, error) {
	if f.IsBlank() {
		return filterXML{}, nil
	}
	switch f.Kind {
	case FilterID, FilterLogin, FilterGUID, FilterExternalID, FilterOwnerID, FilterOwnerLogin:
	default:
		return filterXML{}, fmt.Errorf("%w: %s: unknown filter kind %q", ErrInvalidInput, op, f.Kind)
	}
	if !filterKindSupported(v, f.Kind) {
		return filterXML{}, &UnsupportedError{Operation: op, Feature: "filter " + string(f.Kind), Version: v}
	}
	out := filterXML{kind: f.Kind, values: make([]string, len(f.Values))}
	for i, val := range f.Values {
		switch f.Kind {
		case FilterID, FilterOwnerID:
			n, err := parsePositive(val)
			if err != nil {
				return filterXML{}, fmt.Errorf("%w: %s: filter %s value %q: must be a positive integer", ErrInvalidInput, op, f.Kind, val)
			}
			out.values[i] = strconv.Itoa(n)
		default:
			if strings.TrimSpace(val) == "" {
				return filterXML{}, fmt.Errorf("%w: %s: filter %s value is empty", ErrInvalidInput, op, f.Kind)
			}
			if err := checkText(val); err != nil {
				return filterXML{}, fmt.Errorf("%w: %s: filter %s: %v", ErrInvalidInput, op, f.Kind, err)
			}
			out.values[i] = val
		}
	}
	return out, nil
}

func parsePositive(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	if n <= 0 {
		return 0, fmt.Errorf("not positive")
	}
	return n, nil
}

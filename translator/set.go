package translator

import "fmt"

// SetRequest updates clients: operation set, every protocol version (§7.4).
// Client works in both dialects; Limits and Permissions only in the legacy
// client operator (< 1.6.3.0). Values are written gen_info, limits,
// permissions (legacy order, [CODE S5]).
type SetRequest struct {
	Filter      Filter
	Client      *ClientUpdate
	Limits      *Limits
	Permissions []Permission // empty = not sent
}

// set and its legacy datasets (client/set, < 1.6.3.0), as get's.
var (
	opSet            = register(&Op{name: OpSet, element: "set", operators: accountOperators, newReply: newResultsReply})
	opSetLimits      = register(&Op{name: OpSetLimits, element: "set", operators: legacyOperators, newReply: newResultsReply})
	opSetPermissions = register(&Op{name: OpSetPermissions, element: "set", operators: legacyOperators, newReply: newResultsReply})
)

// Op returns the most demanding operation the request needs: set-limits,
// set-permissions, else set.
func (r *SetRequest) Op() *Op {
	switch {
	case r.Limits != nil:
		return opSetLimits
	case len(r.Permissions) > 0:
		return opSetPermissions
	}
	return opSet
}

type setXML struct {
	Filter filterXML    `xml:"filter"`
	Values setValuesXML `xml:"values"`
}

type setValuesXML struct {
	GenInfo     *setGenInfoXML  `xml:"gen_info"`
	Limits      *limitsXML      `xml:"limits"`
	Permissions *permissionsXML `xml:"permissions"`
}

// setGenInfoXML is clientSetGenInfo in sequence order (§5.2).
type setGenInfoXML struct {
	Cname       *string   `xml:"cname"`
	Pname       *string   `xml:"pname"`
	Login       *string   `xml:"login"`
	Passwd      *string   `xml:"passwd"`
	Status      *Status   `xml:"status"`
	Phone       *string   `xml:"phone"`
	Fax         *string   `xml:"fax"`
	Email       *string   `xml:"email"`
	Address     *string   `xml:"address"`
	City        *string   `xml:"city"`
	State       *string   `xml:"state"`
	Pcode       *string   `xml:"pcode"`
	Country     *string   `xml:"country"`
	Locale      *string   `xml:"locale"`
	GUID        *struct{} `xml:"guid"`
	ExternalID  *string   `xml:"external-id"`
	Description *string   `xml:"description"`
}

// build builds client/set (legacy, with limits/permissions) or customer/set
// (1.6.3.0+, gen_info only). A request with nothing to set is invalid input.
func (r *SetRequest) build(v Version) (any, error) {
	op := r.Op().Name()
	if r.Client == nil && r.Limits == nil && len(r.Permissions) == 0 {
		return nil, fmt.Errorf("%w: set: nothing to set", ErrInvalidInput)
	}
	if r.Limits != nil && !v.Supports(OpSetLimits) {
		return nil, &UnsupportedError{Operation: OpSetLimits, Version: v}
	}
	if len(r.Permissions) > 0 && !v.Supports(OpSetPermissions) {
		return nil, &UnsupportedError{Operation: OpSetPermissions, Version: v}
	}
	f, err := buildFilter(v, op, r.Filter)
	if err != nil {
		return nil, err
	}
	out := &setXML{Filter: f}
	if c := r.Client; c != nil {
		g := &setGenInfoXML{Status: c.Status}
		texts := []struct {
			name string
			src  *string
			dst  **string
		}{
			{"company", c.Company, &g.Cname}, {"name", c.Name, &g.Pname}, {"phone", c.Phone, &g.Phone},
			{"fax", c.Fax, &g.Fax}, {"email", c.Email, &g.Email}, {"address", c.Address, &g.Address},
			{"city", c.City, &g.City}, {"state", c.State, &g.State}, {"postal code", c.PostalCode, &g.Pcode},
			{"country", c.Country, &g.Country}, {"locale", c.Locale, &g.Locale},
			{"external id", c.ExternalID, &g.ExternalID}, {"description", c.Description, &g.Description},
		}
		for _, t := range texts {
			s, err := textField(OpSet, t.name, t.src)
			if err != nil {
				return nil, err
			}
			*t.dst = s
		}
		// login and password cannot be set to blank.
		if err := requiredTextPtr(OpSet, "login", c.Login); err != nil {
			return nil, err
		}
		if err := requiredTextPtr(OpSet, "password", c.Password); err != nil {
			return nil, err
		}
		g.Login, g.Passwd = c.Login, c.Password
		if c.RegenerateGUID {
			if !regenerateGUIDSupported(v) {
				return nil, &UnsupportedError{Operation: OpSet, Feature: "field guid", Version: v}
			}
			g.GUID = &struct{}{}
		}
		if c.ExternalID != nil && !externalIDSupported(v) {
			return nil, &UnsupportedError{Operation: OpSet, Feature: "field external-id", Version: v}
		}
		if c.Description != nil && !descriptionSupported(v) {
			return nil, &UnsupportedError{Operation: OpSet, Feature: "field description", Version: v}
		}
		out.Values.GenInfo = g
	}
	if r.Limits != nil {
		if out.Values.Limits, err = buildLimits(v, OpSetLimits, r.Limits); err != nil {
			return nil, err
		}
	}
	if len(r.Permissions) > 0 {
		if out.Values.Permissions, err = buildPermissions(v, OpSetPermissions, r.Permissions); err != nil {
			return nil, err
		}
	}
	return out, nil
}

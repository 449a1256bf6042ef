package translator

import (
	"encoding/xml"
	"fmt"
)

// AddRequest creates one client: operation add, every protocol version
// (legacy client/add with optional template, modern customer/add; §7.1).
type AddRequest struct{ Client NewClient }

// opAdd: client/add and customer/add, every version; one result.
var opAdd = register(&Op{name: OpAdd, element: "add", operators: accountOperators, oneResult: true,
	newReply: func() replyReader { return new(AddReply) }})

// Op returns the add operation.
func (*AddRequest) Op() *Op { return opAdd }

// addXML is client/add (legacy: gen_info then a template choice) and
// customer/add (gen_info only).
type addXML struct {
	GenInfo      addGenInfoXML `xml:"gen_info"`
	TemplateID   *int          `xml:"template-id"`
	TemplateName *string       `xml:"template-name"`
}

// addGenInfoXML is clientAddGenInfo in xs:sequence order (§5.1).
type addGenInfoXML struct {
	Cname           *string `xml:"cname"`
	Pname           string  `xml:"pname"`
	Login           string  `xml:"login"`
	Passwd          string  `xml:"passwd"`
	Status          *Status `xml:"status"`
	Phone           *string `xml:"phone"`
	Fax             *string `xml:"fax"`
	Email           *string `xml:"email"`
	Address         *string `xml:"address"`
	City            *string `xml:"city"`
	State           *string `xml:"state"`
	Pcode           *string `xml:"pcode"`
	Country         *string `xml:"country"`
	Locale          *string `xml:"locale"`
	OwnerID         *int    `xml:"owner-id"`
	OwnerLogin      *string `xml:"owner-login"`
	OwnerExternalID *string `xml:"owner-external-id"`
	ExternalID      *string `xml:"external-id"`
	Description     *string `xml:"description"`
}

// build builds client/add (1.x legacy) or customer/add (1.6.3.0+).
func (r *AddRequest) build(v Version) (any, error) {
	c := r.Client
	const op = OpAdd
	unsupported := func(feature string) error {
		return &UnsupportedError{Operation: op, Feature: feature, Version: v}
	}
	for _, f := range []struct{ name, val string }{{"name", c.Name}, {"login", c.Login}, {"password", c.Password}} {
		if err := requiredText(op, f.name, f.val); err != nil {
			return nil, err
		}
	}
	g := addGenInfoXML{Pname: c.Name, Login: c.Login, Passwd: c.Password, Status: c.Status}
	texts := []struct {
		name string
		src  *string
		dst  **string
	}{
		{"company", c.Company, &g.Cname}, {"phone", c.Phone, &g.Phone}, {"fax", c.Fax, &g.Fax},
		{"email", c.Email, &g.Email}, {"address", c.Address, &g.Address}, {"city", c.City, &g.City},
		{"state", c.State, &g.State}, {"postal code", c.PostalCode, &g.Pcode}, {"country", c.Country, &g.Country},
		{"locale", c.Locale, &g.Locale}, {"owner login", c.OwnerLogin, &g.OwnerLogin},
		{"owner external id", c.OwnerExternalID, &g.OwnerExternalID},
		{"external id", c.ExternalID, &g.ExternalID}, {"description", c.Description, &g.Description},
	}
	for _, t := range texts {
		s, err := textField(op, t.name, t.src)
		if err != nil {
			return nil, err
		}
		*t.dst = s
	}
	owners := 0
	for _, set := range []bool{c.OwnerID != nil, c.OwnerLogin != nil, c.OwnerExternalID != nil} {
		if set {
			owners++
		}
	}
	if owners > 1 {
		return nil, fmt.Errorf("%w: add: at most one of owner id, owner login, owner external id", ErrInvalidInput)
	}
	if c.OwnerID != nil {
		if *c.OwnerID <= 0 {
			return nil, fmt.Errorf("%w: add: owner id %d is not positive", ErrInvalidInput, *c.OwnerID)
		}
		g.OwnerID = c.OwnerID
	}
	if (c.OwnerID != nil || c.OwnerLogin != nil) && !addOwnerSupported(v) {
		if c.OwnerID != nil {
			return nil, unsupported("field owner-id")
		}
		return nil, unsupported("field owner-login")
	}
	if c.OwnerExternalID != nil && !addOwnerExternalIDSupported(v) {
		return nil, unsupported("field owner-external-id")
	}
	if c.ExternalID != nil && !externalIDSupported(v) {
		return nil, unsupported("field external-id")
	}
	if c.Description != nil && !descriptionSupported(v) {
		return nil, unsupported("field description")
	}
	out := &addXML{GenInfo: g}
	if c.TemplateName != nil || c.TemplateID != nil {
		if c.TemplateName != nil && c.TemplateID != nil {
			return nil, fmt.Errorf("%w: add: at most one of template name, template id", ErrInvalidInput)
		}
		if !templateSupported(v) {
			if c.TemplateID != nil {
				return nil, unsupported("field template-id")
			}
			return nil, unsupported("field template-name")
		}
		if c.TemplateID != nil && *c.TemplateID <= 0 {
			return nil, fmt.Errorf("%w: add: template id %d is not positive", ErrInvalidInput, *c.TemplateID)
		}
		if err := requiredTextPtr(op, "template name", c.TemplateName); err != nil {
			return nil, err
		}
		out.TemplateID, out.TemplateName = c.TemplateID, c.TemplateName
	}
	return out, nil
}

func requiredTextPtr(op Operation, name string, s *string) error {
	if s == nil {
		return nil
	}
	return requiredText(op, name, *s)
}

// AddReply answers add: one result; Result.ID is the new client's ID. GUID is
// set from 1.6.3.0 (absent in legacy replies).
type AddReply struct {
	Result Result
	GUID   string
}

func (*AddReply) isReply() {}

// addResultXML is add's result: the new client's guid from 1.6.3.0.
type addResultXML struct {
	resultXML
	GUID string `xml:"guid"`
}

// eachResult: add's one result.
func (a *AddReply) eachResult(see func(Result)) { see(a.Result) }

// read reads client/add (< 1.6.3.0, no guid) or customer/add (1.6.3.0+,
// with guid): its one <result> (§7.1; Op.oneResult).
func (a *AddReply) read(d *xml.Decoder, se *xml.StartElement) error {
	var r addResultXML
	if err := d.DecodeElement(&r, se); err != nil {
		return err
	}
	res, err := r.result()
	if err != nil {
		return err
	}
	a.Result, a.GUID = res, r.GUID
	return nil
}

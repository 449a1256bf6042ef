package gateway

import (
	"strings"

	"github.com/oapi-codegen/nullable"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/pleskgate/pleskgate/api"
	"github.com/pleskgate/pleskgate/translator"
)

// This file maps between the generated API types and the translator's
// domain types. Nothing here talks to Plesk.

func newClientFrom(b api.ClientCreate) (translator.NewClient, error) {
	owners := 0
	for _, set := range []bool{b.OwnerId != nil, b.OwnerLogin != nil, b.OwnerExternalId != nil} {
		if set {
			owners++
		}
	}
	if owners > 1 {
		return translator.NewClient{}, errUnprocessable("name at most one of owner_id, owner_login and owner_external_id",
			FieldError{Field: "owner_id", Message: "more than one owner given"})
	}
	if b.TemplateName != nil && b.TemplateId != nil {
		return translator.NewClient{}, errUnprocessable("name at most one of template_name and template_id",
			FieldError{Field: "template_name", Message: "more than one template given"})
	}
	if b.Password == nil || *b.Password == "" {
		return translator.NewClient{}, errUnprocessable("a password is required", FieldError{Field: "password", Message: "required"})
	}
	nc := translator.NewClient{
		Company: b.Company, Name: b.Name, Login: b.Login,
		Phone: b.Phone, Fax: b.Fax, Email: b.Email, Address: b.Address, City: b.City, State: b.State,
		PostalCode: b.PostalCode, Country: b.Country, Locale: b.Locale,
		OwnerLogin: b.OwnerLogin, OwnerExternalID: b.OwnerExternalId,
		ExternalID: b.ExternalId, Description: b.Description, TemplateName: b.TemplateName,
	}
	nc.Password = *b.Password
	if b.Status != nil {
		st := translator.Status(*b.Status)
		nc.Status = &st
	}
	if b.OwnerId != nil {
		id := int(*b.OwnerId)
		nc.OwnerID = &id
	}
	if b.TemplateId != nil {
		id := int(*b.TemplateId)
		nc.TemplateID = &id
	}
	return nc, nil
}

// clientUpdateFrom reads a merge patch: absent fields are left alone, null
// clears a field (an empty element), and null is refused where Plesk cannot
// hold an empty value.
func clientUpdateFrom(p api.ClientPatch) (translator.ClientUpdate, error) {
	var u translator.ClientUpdate
	var errs []FieldError
	str := func(name string, n nullable.Nullable[string], dst **string, clearable bool) {
		if !n.IsSpecified() {
			return
		}
		if n.IsNull() {
			if !clearable {
				errs = append(errs, FieldError{Field: name, Message: "cannot be null"})
				return
			}
			empty := ""
			*dst = &empty
			return
		}
		v := n.MustGet()
		*dst = &v
	}
	str("name", p.Name, &u.Name, false)
	str("login", p.Login, &u.Login, false)
	str("password", p.Password, &u.Password, false)
	str("company", p.Company, &u.Company, true)
	str("phone", p.Phone, &u.Phone, true)
	str("fax", p.Fax, &u.Fax, true)
	str("email", p.Email, &u.Email, true)
	str("address", p.Address, &u.Address, true)
	str("city", p.City, &u.City, true)
	str("state", p.State, &u.State, true)
	str("postal_code", p.PostalCode, &u.PostalCode, true)
	str("country", p.Country, &u.Country, true)
	str("locale", p.Locale, &u.Locale, true)
	str("external_id", p.ExternalId, &u.ExternalID, true)
	str("description", p.Description, &u.Description, true)
	if p.Status.IsSpecified() {
		if p.Status.IsNull() {
			errs = append(errs, FieldError{Field: "status", Message: "cannot be null"})
		} else {
			st := translator.Status(p.Status.MustGet())
			u.Status = &st
		}
	}
	if len(errs) > 0 {
		names := make([]string, len(errs))
		for i, e := range errs {
			names[i] = e.Field
		}
		return u, errUnprocessable("these fields cannot be cleared: "+strings.Join(names, ", "), errs...)
	}
	return u, nil
}

func toAPIClient(r clientRecord) api.Client {
	return apiClient(r.ID, &r.Info, r.Stat, r.Limits, r.Permissions, r.IPPool, r.inc, nil)
}

// toAPIClientResult is toAPIClient of a result as the translator decoded
// it (a page of the listing is converted one client at a time from these).
// The optional strings point into scratch when it has room for them all:
// the caller must be done with the client before passing scratch again.
func toAPIClientResult(r *translator.GetResult, inc include, scratch []string) api.Client {
	in := r.Client
	if in == nil {
		in = &translator.ClientInfo{}
	}
	return apiClient(r.Result.ID, in, r.Stat, r.Limits, r.Permissions, r.IPPool, inc, scratch)
}

// optionalStrings is the number of optional string fields of api.Client.
const optionalStrings = 15

func apiClient(id int, in *translator.ClientInfo, stat *translator.Stat, limits *translator.Limits,
	perms []translator.Permission, ippool []translator.PoolIP, inc include, scratch []string) api.Client {
	// The optional fields point into one slice sized to those present: one
	// allocation instead of one per field.
	var ps strPtrs
	if cap(scratch) >= optionalStrings {
		ps.vals = scratch[:0]
	} else {
		opt := [optionalStrings]string{in.Company, in.Phone, in.Fax, in.Email, in.Address, in.City, in.State, in.PostalCode,
			in.Country, in.Locale, in.GUID, in.OwnerLogin, in.VendorGUID, in.ExternalID, in.Description}
		n := 0
		for _, v := range opt {
			if v != "" {
				n++
			}
		}
		ps.vals = make([]string, 0, n)
	}
	c := api.Client{
		Id: int64(id), Login: in.Login, Name: in.Name, Status: int(in.Status),
		Company: ps.ptr(in.Company), Phone: ps.ptr(in.Phone), Fax: ps.ptr(in.Fax), Email: ps.ptr(in.Email),
		Address: ps.ptr(in.Address), City: ps.ptr(in.City), State: ps.ptr(in.State), PostalCode: ps.ptr(in.PostalCode),
		Country: ps.ptr(in.Country), Locale: ps.ptr(in.Locale), Guid: ps.ptr(in.GUID), OwnerLogin: ps.ptr(in.OwnerLogin),
		VendorGuid: ps.ptr(in.VendorGUID), ExternalId: ps.ptr(in.ExternalID), Description: ps.ptr(in.Description),
	}
	if in.CreatedDate != "" {
		var d openapi_types.Date
		if err := d.UnmarshalText([]byte(in.CreatedDate)); err == nil {
			c.Created = &d
		}
	}
	if in.OwnerID != nil {
		id := int64(*in.OwnerID)
		c.OwnerId = &id
	}
	if inc.Stat && stat != nil {
		st := toAPIStat(*stat)
		c.Stat = &st
	}
	if inc.Limits {
		l := toAPILimits(limits)
		c.Limits = &l
	}
	if inc.Permissions {
		p := toAPIPermissions(perms)
		c.Permissions = &p
	}
	if inc.IPPool {
		p := toAPIIPPool(ippool)
		c.Ippool = &p
	}
	return c
}

// strPtrs hands out strPtr's pointers from one slice allocated up front.
type strPtrs struct{ vals []string }

// ptr is strPtr, pointing into the slice while it has room (it never
// grows, so earlier pointers stay valid).
func (p *strPtrs) ptr(s string) *string {
	if s == "" {
		return nil
	}
	if len(p.vals) == cap(p.vals) {
		v := new(string) // a copy: taking &s would move every s to the heap
		*v = s
		return v
	}
	p.vals = append(p.vals, s)
	return &p.vals[len(p.vals)-1]
}

// strPtr keeps an empty Plesk element as an absent JSON field.
func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toAPIStat(s translator.Stat) api.ClientStat {
	i := func(v uint64) int64 { return int64(v) }
	out := api.ClientStat{
		ActiveDomains: i(s.ActiveDomains), Subdomains: i(s.Subdomains), DiskSpace: i(s.DiskSpace),
		Mailboxes: i(s.Postboxes), Redirects: i(s.Redirects), MailGroups: i(s.MailGroups),
		MailResponders: i(s.MailResponders), MailLists: i(s.MailLists), WebUsers: i(s.WebUsers),
		Databases: i(s.Databases), Traffic: i(s.Traffic), TrafficPrevday: i(s.TrafficPrevDay),
	}
	if s.Webapps != nil {
		w := int64(*s.Webapps)
		out.Webapps = &w
	}
	return out
}

func toAPILimits(l *translator.Limits) api.ClientLimits {
	out := api.ClientLimits{Limits: map[string]int64{}}
	if l == nil {
		return out
	}
	for _, v := range l.Values {
		out.Limits[v.Name] = v.Value
	}
	if l.Overuse != "" {
		o := api.ClientLimitsOveruse(l.Overuse)
		out.Overuse = &o
	}
	return out
}

func toAPIPermissions(ps []translator.Permission) api.ClientPermissions {
	out := api.ClientPermissions{Permissions: map[string]bool{}}
	for _, p := range ps {
		out.Permissions[p.Name] = p.Value
	}
	return out
}

func toAPIIPPool(ips []translator.PoolIP) api.IPPool {
	out := api.IPPool{Ips: make([]api.IPPoolEntry, 0, len(ips))}
	for _, ip := range ips {
		e := api.IPPoolEntry{IpAddress: ip.Address}
		if ip.Type != "" {
			t := api.IPPoolEntryType(ip.Type)
			e.Type = &t
		}
		out.Ips = append(out.Ips, e)
	}
	return out
}

func toAPIButtons(bs []translator.Button) api.ButtonList {
	out := api.ButtonList{Buttons: make([]api.Button, 0, len(bs))}
	for _, b := range bs {
		out.Buttons = append(out.Buttons, api.Button{
			Code: b.Code, Type: api.ButtonType(b.Type), Name: b.Name, NameId: strPtr(b.NameID),
			GroupName: strPtr(b.GroupName), GroupNameId: strPtr(b.GroupNameID), Href: strPtr(b.Href),
			JsOnclick: b.JSOnClick, Enabled: b.Enabled, NewWindow: b.NewWindow, Tabindex: b.TabIndex,
			ConhelpId: b.ConhelpID, Conhelp: b.Conhelp, IconUrl: b.IconURL,
		})
	}
	return out
}

func toAPIOwner(in translator.ClientInfo) api.Owner {
	o := api.Owner{OwnerLogin: strPtr(in.OwnerLogin), VendorGuid: strPtr(in.VendorGUID)}
	if in.OwnerID != nil {
		id := int64(*in.OwnerID)
		o.OwnerId = &id
	}
	return o
}

func toAPIDescriptor(d translator.Descriptor) api.Descriptor {
	out := api.Descriptor{Properties: make([]api.DescriptorProperty, 0, len(d.Properties))}
	for _, p := range d.Properties {
		dp := api.DescriptorProperty{
			Name: p.Name, Type: p.Type, DefaultValue: p.DefaultValue, Label: strPtr(p.Label), Hint: strPtr(p.Hint),
			Shared: p.Shared,
		}
		if len(p.WritableBy) > 0 {
			w := append([]string(nil), p.WritableBy...)
			dp.WritableBy = &w
		}
		if len(p.Levels) > 0 {
			l := append([]string(nil), p.Levels...)
			dp.Levels = &l
		}
		if len(p.Enum) > 0 {
			enum := make([]api.DescriptorEnumValue, 0, len(p.Enum))
			for _, e := range p.Enum {
				enum = append(enum, api.DescriptorEnumValue{Value: e.Value, Label: strPtr(e.Label), Hint: strPtr(e.Hint)})
			}
			dp.Enum = &enum
		}
		out.Properties = append(out.Properties, dp)
	}
	return out
}

func toAPIProblem(p Problem) *api.Problem {
	out := &api.Problem{Type: p.Type, Title: p.Title, Status: p.Status, Detail: strPtr(p.Detail),
		PleskErrcode: p.PleskErrcode, PleskErrtext: p.PleskErrtext}
	return out
}

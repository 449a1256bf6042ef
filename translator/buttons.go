package translator

import (
	"encoding/xml"
	"strings"
)

// ButtonsListRequest lists the custom buttons of clients' pages: legacy
// client/cform_buttons_list, protocol < 1.6.3.0 (§7.7).
type ButtonsListRequest struct{ Filter Filter }

var opButtonsList = register(&Op{name: OpButtonsList, element: "cform_buttons_list", operators: legacyOperators, readOnly: true,
	newReply: func() replyReader { return &ButtonsReply{Results: []ButtonsResult{}} }})

// Op returns the cform_buttons_list operation.
func (*ButtonsListRequest) Op() *Op { return opButtonsList }

type buttonsListXML struct {
	Filter filterXML `xml:"filter"`
}

// build builds client/cform_buttons_list (< 1.6.3.0).
func (r *ButtonsListRequest) build(v Version) (any, error) {
	f, err := buildFilter(v, OpButtonsList, r.Filter)
	if err != nil {
		return nil, err
	}
	return &buttonsListXML{Filter: f}, nil
}

// Button is buttonDataType (§7.7).
type Button struct {
	Code, Type, Name, NameID, GroupName, GroupNameID, Href string
	JSOnClick                                              *string
	Enabled                                                bool
	NewWindow                                              *bool
	TabIndex                                               *int
	ConhelpID, Conhelp, IconURL                            *string
}

// ButtonsResult is one client's buttons.
type ButtonsResult struct {
	Result  Result
	Buttons []Button
}

// Outcome is r's Result.
func (r ButtonsResult) Outcome() Result { return r.Result }

// ButtonsReply answers cform_buttons_list.
type ButtonsReply struct{ Results []ButtonsResult }

func (*ButtonsReply) isReply() {}

// buttonsResultXML is cform_buttons_list's result: the client's buttons.
type buttonsResultXML struct {
	resultXML
	Buttons []buttonXML `xml:"button"`
}

// buttonXML is buttonDataType (xs:all).
type buttonXML struct {
	Code        string  `xml:"code"`
	Type        string  `xml:"type"`
	Name        string  `xml:"name"`
	NameID      string  `xml:"name_id"`
	GroupName   string  `xml:"group_name"`
	GroupNameID string  `xml:"group_name_id"`
	Href        string  `xml:"href"`
	JSOnClick   *string `xml:"js_onclick"`
	Enabled     string  `xml:"enabled"`
	NewWindow   *string `xml:"new_window"`
	TabIndex    *string `xml:"tabindex"`
	ConhelpID   *string `xml:"conhelp_id"`
	Conhelp     *string `xml:"conhelp"`
	IconURL     *string `xml:"icon_url"`
}

func (out *ButtonsReply) eachResult(see func(Result)) {
	for i := range out.Results {
		see(out.Results[i].Result)
	}
}

// read reads one result of client/cform_buttons_list (< 1.6.3.0).
func (out *ButtonsReply) read(d *xml.Decoder, se *xml.StartElement) error {
	var r buttonsResultXML
	if err := d.DecodeElement(&r, se); err != nil {
		return err
	}
	res, err := r.result()
	if err != nil {
		return err
	}
	br := ButtonsResult{Result: res}
	for _, b := range r.Buttons {
		btn := Button{
			Code: b.Code, Type: strings.TrimSpace(b.Type), Name: b.Name, NameID: b.NameID,
			GroupName: b.GroupName, GroupNameID: b.GroupNameID, Href: b.Href, JSOnClick: b.JSOnClick,
			ConhelpID: b.ConhelpID, Conhelp: b.Conhelp, IconURL: b.IconURL,
		}
		if btn.Enabled, err = parseBool(b.Enabled); err != nil {
			return err
		}
		if b.NewWindow != nil {
			nw, err := parseBool(*b.NewWindow)
			if err != nil {
				return err
			}
			btn.NewWindow = &nw
		}
		if b.TabIndex != nil {
			ti, err := optInt("tabindex", *b.TabIndex)
			if err != nil {
				return err
			}
			btn.TabIndex = &ti
		}
		br.Buttons = append(br.Buttons, btn)
	}
	out.Results = append(out.Results, br)
	return nil
}

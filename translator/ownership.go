package translator

// ConvertToResellerRequest turns clients into resellers: convert-to-reseller,
// protocol 1.6.0.0+ in both dialects (§7.10). ResellerPlanName needs 1.6.3.0+.
type ConvertToResellerRequest struct {
	Filter           Filter
	ResellerPlanName *string
}

var opConvertToReseller = register(&Op{name: OpConvertToReseller, element: "convert-to-reseller", operators: accountOperators,
	since: v1600, newReply: newResultsReply})

// Op returns the convert-to-reseller operation.
func (*ConvertToResellerRequest) Op() *Op { return opConvertToReseller }

type convertXML struct {
	Filter           filterXML `xml:"filter"`
	ResellerPlanName *string   `xml:"reseller-plan-name"`
}

// build builds client/convert-to-reseller (1.6.0.x) or
// customer/convert-to-reseller (1.6.3.0+).
func (r *ConvertToResellerRequest) build(v Version) (any, error) {
	f, err := buildFilter(v, OpConvertToReseller, r.Filter)
	if err != nil {
		return nil, err
	}
	if r.ResellerPlanName != nil {
		if !resellerPlanSupported(v) {
			return nil, &UnsupportedError{Operation: OpConvertToReseller, Feature: "field reseller-plan-name", Version: v}
		}
		if err := requiredText(OpConvertToReseller, "reseller plan name", *r.ResellerPlanName); err != nil {
			return nil, err
		}
	}
	return &convertXML{Filter: f, ResellerPlanName: r.ResellerPlanName}, nil
}

// ChangeOwnerRequest moves clients to another owner: change-owner, protocol
// 1.6.0.0+ in both dialects (§7.11). IPv4, IPv6 and PlanName need 1.6.3.0+.
type ChangeOwnerRequest struct {
	Filter        Filter
	NewOwnerLogin string
	IPv4, IPv6    []string
	PlanName      *string
}

var opChangeOwner = register(&Op{name: OpChangeOwner, element: "change-owner", operators: accountOperators,
	since: v1600, newReply: newResultsReply})

// Op returns the change-owner operation.
func (*ChangeOwnerRequest) Op() *Op { return opChangeOwner }

type changeOwnerXML struct {
	Filter        filterXML `xml:"filter"`
	NewOwnerLogin string    `xml:"new-owner-login"`
	IPv4          []string  `xml:"ipV4-address"`
	IPv6          []string  `xml:"ipV6-address"`
	PlanName      *string   `xml:"plan-name"`
}

// build builds client/change-owner (1.6.0.x: filter and new-owner-login only
// [GUESS]) or customer/change-owner (1.6.3.0+).
func (r *ChangeOwnerRequest) build(v Version) (any, error) {
	const op = OpChangeOwner
	f, err := buildFilter(v, op, r.Filter)
	if err != nil {
		return nil, err
	}
	if err := requiredText(op, "new owner login", r.NewOwnerLogin); err != nil {
		return nil, err
	}
	if !changeOwnerExtrasSupported(v) {
		switch {
		case len(r.IPv4) > 0:
			return nil, &UnsupportedError{Operation: op, Feature: "field ipV4-address", Version: v}
		case len(r.IPv6) > 0:
			return nil, &UnsupportedError{Operation: op, Feature: "field ipV6-address", Version: v}
		case r.PlanName != nil:
			return nil, &UnsupportedError{Operation: op, Feature: "field plan-name", Version: v}
		}
	}
	for _, ips := range [][]string{r.IPv4, r.IPv6} {
		for _, ip := range ips {
			if err := requiredText(op, "IP address", ip); err != nil {
				return nil, err
			}
		}
	}
	if err := requiredTextPtr(op, "plan name", r.PlanName); err != nil {
		return nil, err
	}
	return &changeOwnerXML{Filter: f, NewOwnerLogin: r.NewOwnerLogin, IPv4: r.IPv4, IPv6: r.IPv6, PlanName: r.PlanName}, nil
}

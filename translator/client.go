package translator

// Status is Plesk's objectStatus bit mask (§3.1). Only 0 and 16 can be set.
type Status int

// objectStatus flags (§3.1).
const (
	StatusActive           Status = 0
	StatusUnderBackup      Status = 4
	StatusDisabledByAdmin  Status = 16
	StatusDisabledByClient Status = 64
	StatusExpired          Status = 256
)

// NewClient is the account to create: clientAddGenInfo (§5.1) plus the legacy
// client template (§7.1). Optional fields are pointers; nil is not sent.
type NewClient struct {
	Company  *string // cname
	Name     string  // pname, required
	Login    string  // required
	Password string  // passwd, required; write-only
	Status   *Status

	Phone, Fax, Email, Address, City, State, PostalCode, Country, Locale *string

	// At most one owner-* (a choice in the schema). owner-id/owner-login need
	// 1.6.0.0+, owner-external-id 1.6.6.0+.
	OwnerID         *int
	OwnerLogin      *string
	OwnerExternalID *string

	ExternalID  *string // 1.6.3.0+
	Description *string // 1.6.6.0+

	// Legacy client template (1.4.0.0 … 1.6.0.x), at most one.
	TemplateName *string
	TemplateID   *int
}

// ClientUpdate is a partial update: clientSetGenInfo (§5.2). Only non-nil
// fields are written.
type ClientUpdate struct {
	Company, Name, Login, Password *string
	Status                         *Status

	Phone, Fax, Email, Address, City, State, PostalCode, Country, Locale *string

	// RegenerateGUID sends the empty <guid/> element (modern only). Its
	// meaning is undocumented; "regenerate" is a guess (§5.2).
	RegenerateGUID bool

	ExternalID  *string // 1.6.3.0+
	Description *string // 1.6.6.0+
}

// ClientInfo is a client's general info: clientGetGenInfo (§5.3). The
// password, should Plesk return one, is never read.
type ClientInfo struct {
	CreatedDate string // cr_date, YYYY-MM-DD
	Company     string
	Name        string
	Login       string
	Status      Status

	Phone, Fax, Email, Address, City, State, PostalCode, Country, Locale string

	GUID        string
	OwnerID     *int
	OwnerLogin  string
	VendorGUID  string
	ExternalID  string
	Description string
}

// Stat is clientStatType (§6.1). Webapps is nil when absent (removed in 1.6.9.1).
type Stat struct {
	ActiveDomains, Subdomains                                                        uint64
	DiskSpace                                                                        uint64 // bytes
	Postboxes, Redirects, MailGroups, MailResponders, MailLists, WebUsers, Databases uint64
	Webapps                                                                          *uint64
	Traffic, TrafficPrevDay                                                          uint64 // bytes
}

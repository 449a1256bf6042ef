// Package plesksim is a stateful, version-aware simulator of Plesk's XML API
// (POST /enterprise/control/agent.php) for the legacy `client` operator
// (protocol 1.0.0.0 … 1.6.0.x), the modern `customer` operator (1.6.3.0 and
// later) and the `server` operator's get_protos and get. The behaviour follows
// ../shared/plesk/PROTOCOL.md: §10 is the checklist, §15 what real servers
// were recorded doing. It decodes and validates packets with its own code,
// never the gateway's or the translator's, so that it is an independent check
// of the packets they build.
//
// Each behaviour carries its evidence: [REC] recorded from a real server
// (PROTOCOL.md §15, REC-1 Plesk 11.5.30 at 1.6.3.5, REC-2 Obsidian 18.0.41,
// REC-3 issue threads), [DOC] Plesk's documentation, schemas or own code,
// [INF] inferred from those (the reasoning is in the code), [GUESS] a design
// decision no source supports. recorded_test.go has one test per [REC] fact.
//
// # Envelope and check-ups
//
//   - [REC] Every answer starts with `<?xml version="1.0" encoding="UTF-8"?>`
//     and a newline, with Content-Type text/xml and Server sw-cp-server
//     ([INF] Content-Length instead of REC-1's chunked body); the requested version is echoed,
//     the newest when none was given (REC-1, REC-3 "1.6.9.0", "1.6.0.2").
//   - [DOC] Check-ups in order, each a `<packet><system>` error with HTTP 200
//     and nothing executed: protocol version (1005), authentication (no
//     usable headers 1029, wrong login or password 1001, wrong KEY 11003),
//     packet validity against the version's schema (1014, libxml2 wording
//     naming the element and line). Partial versions "1.6", "1.6.5" resolve
//     to the newest accepted version with that prefix.
//   - [REC] An operator the declared version lacks is 1014 listing the
//     schema's operators: at ≥ 1.6.9.0 exactly REC-2's list ( request-settings,
//     server, customer, webspace, subdomain, dns, db_server, mail, certificate,
//     site-alias ). [INF] libxml2 lists at most 10 expected names (schema.go
//     maxExpected); [DOC] 1.6.3.0 … 1.6.8.0 list XSD-1.6.6's agent_input.xsd
//     order; [GUESS] the legacy list (no legacy agent_input.xsd was found).
//   - [REC] An empty id is 1014 "… is not a valid value of the atomic type
//     'id_type'." (REC-3).
//   - [GUESS] Non-POST → HTTP 405 with Allow: POST; a body over MaxBodyBytes →
//     HTTP 413; an empty body or malformed XML is 1014 after authentication; a
//     suspended client logging in → 1011. Content-Type is not enforced;
//     HTTP_PRETTY_PRINT is ignored.
//
// # Versions
//
//   - [REC]/[DOC] get_protos lists every known version from 1.0.0.0 up to
//     Config.Protocol, ascending (versions.go knownVersions gives each one's
//     evidence; [INF] 1.3.1.0 … 1.3.4.0, [GUESS] 1.5.1.0, 1.5.2.1, 1.6.3.3).
//     [GUESS] ascending, not the documented sample's unsorted order.
//   - [DOC] Packets at a version are held to what existed then (§8): 1.0 …
//     1.3.x filter by id only and add takes gen_info only; login filter and
//     add template-name/-id from 1.4.0.0; filter-id from 1.4.2.0; descriptors
//     and name/value limits from 1.5.0.0; convert-to-reseller, change-owner
//     and owners from 1.6.0.0; `customer` replaces `client` at 1.6.3.0;
//     description and owner-external-id from 1.6.6.0 (and [REC] none at
//     1.6.3.5); stat/webapps until 1.6.9.0. [INF] request-settings from
//     1.6.9.0.
//
// # Customer records
//
//   - [REC] A blank filter gives each result a filter-id equal to its id; a
//     filter gives the filter value (an owner-id filter: that value on every
//     result). [DOC] Unmatched values get their own 1013 result.
//   - [REC] gen_info order: cr_date, cname, pname, login, status, phone, fax,
//     email, address, city, state, pcode, country, locale, guid, owner-id or
//     owner-login, vendor-guid, external-id, password, password_type.
//     [GUESS] description (1.6.6.0+) after password_type.
//   - [REC] The administrator's clients carry owner-login only, a reseller's
//     owner-id only; vendor-guid is the owner's guid. [INF] the same from
//     1.6.0.0 in the legacy operator.
//   - [REC] password is a `$5$` SHA-256-crypt hash (real crypt(3), tested
//     against openssl) and password_type is crypt. [DOC] from 1.3.5.0 ("since
//     1.3.5"). [INF] one salt per server, hashes memoised per password (a
//     real panel salts per user).
//   - [REC] Clients added without a locale get Config.Locale (default en-US).
//   - [DOC] stat counters are 0 (the simulator hosts nothing).
//   - [GUESS] Limits never set read -1 (unlimited), permissions false; only
//     explicitly set values are kept.
//
// # Errors of operations
//
//   - [REC] add with a taken login: 1007 "Client with login name '…' already
//     exists.", no id. set on an unmatched value: 1013 "client does not
//     exist" with filter-id, no id. [DOC] other unmatched values: 1013
//     "Object not found."
//   - [DOC] Field lengths of type-clientaddgeninfo (cname 0–60, pname 1–60,
//     login 1–60, phone/fax 0–30, email/address 0–255, city 0–50, state 0–25,
//     pcode 0–10, country 0–2): 1019 on add and set. [GUESS] the errtext
//     wording, and login 1–60 over the get/set pages' 1–20.
//   - [GUESS] Password policy (Config.PasswordPolicy, passwords.go): off,
//     weak (5+ characters), medium (8+ of two kinds), strong (8+ with upper,
//     lower, digit and other). The rules are [GUESS]; the default of the
//     plesksim command, medium, is [GUESS] for what Plesk ships. A password
//     below it is 1019 (errPasswordPolicy, [GUESS]) with REC-1's 1019 prefix
//     "Unable to set login or password argument:" and the rule.
//   - [DOC] status only 0 or 16 (1025); owner-* must be the administrator or
//     a reseller (1015); the caller owns what it adds [INF].
//   - [GUESS] An empty passwd → 1019; external-id unique (1007); a reseller
//     naming another owner → 1006.
//
// # Plans, ownership, conversion
//
//   - [DOC] change-owner plan-name is the new owner's service plan
//     (Config.HostingPlans and Config.Plans owned by the administrator,
//     Plans owned by a reseller); ≥ 1.6.3.0 needs one IP. [GUESS] the codes:
//     unknown plan 1013, no IP 1019, an IP not the server's 1018.
//   - [DOC] convert-to-reseller is the administrator's (1006 otherwise);
//     reseller-plan-name must be one of Config.ResellerPlans ([GUESS] 1013).
//     [GUESS] the administrator may also convert a reseller's client; the
//     reseller keeps id, login, password, GUID and external-id.
//   - [DOC] The administrator sees every client, a reseller only its own.
//     [GUESS] another reseller's client is 1013 (not 1006); a client that
//     logs in gets 1006 per client/customer operation, and so does a
//     reseller below 1.6.0.0 [INF].
//
// # server get
//
//   - [DOC] `<server><get>` with key, gen_info and stat (in that order, each
//     only when asked): key as name/value properties (plesk_key_id,
//     product_version; [CODE] lim_date, can-manage-customers,
//     can-manage-resellers, lim_cl, lim_dom, which Plesk's PHP library
//     reads, values [INF]/[GUESS] as server.go says), gen_info server_name
//     and server_guid, stat with
//     objects, version, other, load_avg, mem, swap, diskspace.
//     version/plesk_version is Config.PleskVersion ([REC] REC-1 "11.5.30";
//     default 18.0.41, REC-2's panel). [GUESS] the machine figures; only the
//     administrator may call it (1006 otherwise). Other parts (admin,
//     interfaces, …) are refused with 1014.
//
// # Legacy operations
//
//   - [GUESS] ippool: duplicate add → 1007, removing an absent IP → 1018, an
//     unknown client → 1013, one result per ip_address. The button set of
//     cform_buttons_list is invented. Limit and permission names beyond the
//     documented ones (schema.go) are [GUESS]; an unknown one in set → 1019.
//     ≤ 1.4.2.0 named limit/permission elements are accepted in any order.
//     [INF] permissions change format with limits at 1.5.0.0.
//   - [GUESS] `<guid/>` in set regenerates the GUID.
//
// # Known deviations from Plesk's schemas
//
// [DOC] A blank-filter get that matches nothing answers an empty `<get/>`
// (REC-3), which the response schema (result 1..∞) does not allow. The
// operations set-billing-info and get-domain-list are not simulated (1014),
// nor is REC-3's 1017 "This feature is not supported for protocol version …".
//
// Other decisions: every string field is whitespace-collapsed as its XSD
// type says (PROTOCOL.md §10.18), passwd included; the packet runs under one
// lock, so packets are atomic with respect to each other. Stats.Operations
// counts operations that ran (also those answering an error result), never
// those of a packet refused with a system error.
//
// # Faults
//
// FaultHTTP500 and FaultDrop strike before the packet runs; FaultMalformed,
// FaultTruncated and FaultReset damage the answer of a packet that did run.
package plesksim

// Package plesksim is a stateful, version-aware simulator of Plesk's XML API
// (POST /enterprise/control/agent.php) for the legacy `client` operator
// (protocol 1.4.0.0 … 1.6.0.x) and the modern `customer` operator (1.6.3.0
// and later), plus `<server><get_protos/></server>`. The behaviour follows
// ../shared/plesk/PROTOCOL.md (§10 is the checklist). It decodes and
// validates packets with its own code, never the gateway's or the
// translator's, so that it is an independent check of the packets they build.
//
// # Check-ups
//
// In order, each failure a `<packet><system>` error with HTTP 200 and nothing
// executed: HTTP method (decision: non-POST → HTTP 405 with Allow: POST, not
// a packet; a body over MaxBodyBytes → HTTP 413); protocol version (1005);
// authentication (no usable headers 1029, wrong login or password 1001,
// wrong KEY 11003, disabled client 1011); packet validity against the
// version's schema (1014, libxml2 wording naming the element and line). An
// empty body or malformed XML is 1014 too, after authentication.
//
// # Decisions and guesses
//
// Marked [GUESS] in the code where they live:
//   - versions.go knownVersions: the intermediate versions without a source.
//   - versions.go v1690: request-settings accepted from 1.6.9.0.
//   - schema.go filterDecl: guid/external-id filters from 1.6.3.0.
//   - schema.go limitsDecl: ≤ 1.4.2.0 named limit elements in any order.
//   - schema.go limitNames, permissionNames: names beyond the documented ones.
//   - ops.go limitDefault (-1 = unlimited), permissionDefault (false): what GET
//     shows for limits/permissions never set. Client.Limits/Permissions hold
//     only explicitly set values.
//   - ops.go checkSet: unknown limit or permission name → 1019.
//   - ops.go applySet: `<guid/>` in set regenerates the GUID.
//   - ops.go genInfo: owner-id always; owner-login only for the admin's clients.
//   - ops.go add: a reseller naming another owner → 1006; external-id must
//     be unique (1007); empty pname/login/passwd → 1019.
//   - ops.go convert: unknown reseller-plan-name → 1013; the admin may convert
//     any client, also a reseller's.
//   - ops.go changeOwner: a reseller caller may move only its own clients
//     (others are 1013); ≥ 1.6.3.0 needs one IP (1019), IPs must be the
//     server's (1018), plan-name must be a hosting plan (1013).
//   - ops.go ippool: duplicate add → 1007, removing an absent IP → 1018, an
//     unknown client → 1013; always one result per ip_address.
//   - ops.go run: a client that logs in may call get_protos, but every
//     client/customer operation answers 1006; so does every operation of a
//     reseller below 1.6.0.0 [INF: resellers got the client operator then].
//   - ops.go buttons: the button set is invented.
//   - ops.go permissions, schema.go permissionsDecl: permissions change
//     format with limits, named elements up to 1.4.2.0 and name/value pairs
//     from 1.5.0.0 ([INF] from the §8 row for 1.5.0.0; the translator reads
//     it the same way).
//   - serve.go authenticate: a suspended client (status 16) logging in → 1011.
//
// Other decisions: Content-Type is not enforced (Plesk wants text/xml);
// HTTP_PRETTY_PRINT is ignored; every string field is whitespace-collapsed
// as its XSD type says (PROTOCOL.md §10.18), passwd included; the packet
// runs under one lock, so packets are atomic with respect to each other.
// Stats.Operations counts operations that ran (also those answering an
// error result), never those of a packet refused with a system error.
//
// # Known deviations from Plesk's schemas
//
// A blank-filter get that matches nothing answers an empty `<get/>`
// (PROTOCOL.md §2), which the response schema (result 1..∞) does not allow.
// The operations set-billing-info and get-domain-list are not simulated and
// are refused with 1014.
//
// # Faults
//
// FaultHTTP500 and FaultDrop strike before the packet runs; FaultMalformed,
// FaultTruncated and FaultReset damage the answer of a packet that did run.
package plesksim

// Package translator maps pleskgate's domain values to Plesk XML-RPC packets
// for the client accounts operator and back, for both protocol dialects: the
// legacy "client" operator (protocol < 1.6.3.0) and the modern "customer"
// operator (1.6.3.0 and later).
//
// The package is pure: it performs no I/O and imports only the standard
// library. Requests are emitted compact and without an XML declaration, so the
// bytes for a given input are deterministic. The wire format follows
// shared/plesk/PROTOCOL.md; section numbers (§) in comments refer to it.
// Decisions the protocol document marks as [GUESS] live in features.go.
package translator

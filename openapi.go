// Package pleskgate holds the public contract, openapi.yaml, so the binary can
// serve it byte for byte. The gateway itself lives in gateway/.
package pleskgate

import _ "embed"

// OpenAPIYAML is openapi.yaml as written.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

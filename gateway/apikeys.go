package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// APIKey is one caller key of service mode, stored as a SHA-256 hash.
type APIKey struct {
	Name   string `json:"name"`
	Scope  string `json:"scope"`  // "read" or "write"
	SHA256 string `json:"sha256"` // hex SHA-256 of the key
	hash   []byte
}

// Allows reports whether the key's scope permits the HTTP method.
func (k APIKey) Allows(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	default:
		return k.Scope == "write"
	}
}

// APIKeys is the set of service-mode caller keys (PLESKGATE_API_KEYS_FILE).
type APIKeys struct{ keys []APIKey }

// LoadAPIKeys reads a JSON array of {"name","scope","sha256"} objects.
// Keys are stored only as hashes: `printf %s "$KEY" | sha256sum` makes one.
func LoadAPIKeys(path string) (*APIKeys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("api keys file: %w", err)
	}
	var keys []APIKey
	if err := json.Unmarshal(data, &keys); err != nil {
		return nil, fmt.Errorf("api keys file %s: %w", path, err)
	}
	return NewAPIKeys(keys)
}

// NewAPIKeys validates keys and returns the set.
func NewAPIKeys(keys []APIKey) (*APIKeys, error) {
	seen := map[string]bool{}
	for i := range keys {
		k := &keys[i]
		if k.Name == "" || seen[k.Name] {
			return nil, fmt.Errorf("api key %d: a unique name is required", i)
		}
		seen[k.Name] = true
		if k.Scope != "read" && k.Scope != "write" {
			return nil, fmt.Errorf("api key %s: scope must be read or write", k.Name)
		}
		h, err := hex.DecodeString(strings.TrimSpace(k.SHA256))
		if err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("api key %s: sha256 must be 64 hex digits", k.Name)
		}
		k.hash = h
	}
	return &APIKeys{keys: keys}, nil
}

// Lookup finds the key whose hash matches presented. It compares against every
// stored hash in constant time, so timing tells nothing about which matched.
func (a *APIKeys) Lookup(presented string) (APIKey, bool) {
	if a == nil {
		return APIKey{}, false
	}
	sum := sha256.Sum256([]byte(presented))
	found := -1
	for i, k := range a.keys {
		if subtle.ConstantTimeCompare(sum[:], k.hash) == 1 {
			found = i
		}
	}
	if found < 0 {
		return APIKey{}, false
	}
	return a.keys[found], true
}

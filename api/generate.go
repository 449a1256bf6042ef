// Package api is generated from ../openapi.yaml by oapi-codegen (see
// oapi-codegen.yaml): models, the strict Echo server interface and the
// embedded spec. Do not edit api.gen.go; edit openapi.yaml and run
// `make generate`.
package api

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml

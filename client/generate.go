// Package client is a Go client for pleskgate's REST API, generated from
// ../openapi.yaml by oapi-codegen (see oapi-codegen.yaml): the models and a
// ClientWithResponses whose methods are the spec's operations. Do not edit
// client.gen.go; edit openapi.yaml and run `make generate`. problem.go (by
// hand) turns an application/problem+json answer into a *ProblemError.
package client

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml

// Package linli is a GraphQL backend for community volunteer services.
//
// `go generate .` regenerates the Ent client, schema/ent.graphql and the
// gqlgen executor, in that order.
package linli

//go:generate go run -mod=mod ./ent/entc.go
//go:generate go run -mod=mod ./graph/codegen

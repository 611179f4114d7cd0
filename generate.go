// Package linli is a GraphQL backend for community volunteer services.
//
// `go generate .` regenerates the Ent client, schema/ent.graphql and the
// gqlgen executor, in that order, then writes a new versioned migration for
// each database when the Ent schema differs from what migrations/ replays
// to (migrations/gen).
package linli

//go:generate go run -mod=mod ./ent/entc.go
//go:generate go run -mod=mod ./graph/codegen
//go:generate go run -mod=mod ./migrations/gen

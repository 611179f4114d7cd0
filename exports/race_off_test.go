//go:build !race

package exports_test

// bigExport is the row count of the constant-memory test.
const bigExport = 100_000

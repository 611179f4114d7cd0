//go:build race

package exports_test

// bigExport is the row count of the constant-memory test: under the race
// detector (pure-Go SQLite and excelize run many times slower) a tenth of
// 100,000.
const bigExport = 10_000

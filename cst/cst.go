// Package cst holds China Standard Time (UTC+8, no daylight saving), the
// one clock linli tells days, months and years in: service dates of
// volunteer records, request numbers, statistics months, the times on
// tablets and in exports.
package cst

import "time"

// Zone is China Standard Time.
var Zone = time.FixedZone("CST", 8*3600)

// Date is t's day in Zone, YYYY-MM-DD.
func Date(t time.Time) string { return t.In(Zone).Format("2006-01-02") }

// Stamp is a moment as downloads show it (RFC 3339 in Zone), nil for none.
func Stamp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.In(Zone).Format(time.RFC3339)
}

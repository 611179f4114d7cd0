package main

import (
	"fmt"
	"slices"
	"time"
)

func median[T any](rs []result, f func(result) T, less func(a, b T) int) T {
	vs := make([]T, len(rs))
	for i, r := range rs {
		vs[i] = f(r)
	}
	slices.SortFunc(vs, less)
	return vs[len(vs)/2]
}

func cmpDur(a, b time.Duration) int { return int(a - b) }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// report prints the medians over rounds of each system, and the ratios.
func report(n int, ours, bare []result) {
	row := func(name string, rs []result) (time.Duration, float64) {
		p50 := median(rs, func(r result) time.Duration { return r.p50 }, cmpDur)
		p99 := median(rs, func(r result) time.Duration { return r.p99 }, cmpDur)
		mx := median(rs, func(r result) time.Duration { return r.max }, cmpDur)
		mem := median(rs, func(r result) float64 { return r.perConn }, cmpFloat)
		rss := median(rs, func(r result) float64 { return r.rssPerConn }, cmpFloat)
		stack := median(rs, func(r result) float64 { return r.stackPerConn }, cmpFloat)
		fmt.Printf("  %-6s %10v %10v %10v %6.1f KB (%4.1f stack) %9.1f KB %9d\n", name,
			p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), mx.Round(10*time.Microsecond),
			mem/1024, stack/1024, rss/1024, rs[0].samples)
		return p99, mem
	}
	fmt.Printf("\n%d subscribers (medians of %d rounds)\n", n, len(ours))
	fmt.Printf("  %-6s %10s %10s %10s %21s %12s %9s\n", "", "p50", "p99", "max", "heap+stack/conn", "RSS/conn", "samples")
	ourP99, ourMem := row("linli", ours)
	bareP99, _ := row("bare", bare)
	fmt.Printf("  p99 linli/bare: %.2f×   (goals: p99 ≤ 100ms, ratio ≤ 1.3×, ≤ 35 KB/conn: %s)\n",
		float64(ourP99)/float64(bareP99), verdict(ourP99 <= 100*time.Millisecond && float64(ourP99) <= 1.3*float64(bareP99) && ourMem <= 35*1024))
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

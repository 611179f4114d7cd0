package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"

	"linli/bench/load"
)

// storm runs n calls of one over clients goroutines and returns confirmed
// calls per second. Every call must confirm: a slot that fills would measure
// refusals instead.
func storm(clients, n int, one func(i int) (confirmed bool, err error)) (float64, error) {
	rate, ok, err := load.Storm(clients, n, func(_, i int) (bool, error) { return one(i) })
	if err == nil && ok != n {
		err = fmt.Errorf("only %d of %d sign-ups were confirmed", ok, n)
	}
	return rate, err
}

func newServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

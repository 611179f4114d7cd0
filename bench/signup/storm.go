package main

import (
	"fmt"
	"linli/linlitest"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// storm runs n calls of one over clients goroutines, each taking the next
// index until all are done, and returns confirmed calls per second. Every
// call must confirm: a slot that fills would measure refusals instead.
func storm(clients, n int, one func(i int) (confirmed bool, err error)) (float64, error) {
	var next, confirmed atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				ok, err := one(i)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				if ok {
					confirmed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, firstErr
	}
	if int(confirmed.Load()) != n {
		return 0, fmt.Errorf("only %d of %d sign-ups were confirmed", confirmed.Load(), n)
	}
	return float64(n) / elapsed.Seconds(), nil
}

func newServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }

// postJSON sends one GraphQL request and returns its data, failing on any
// GraphQL error.
func postJSON(c *http.Client, url, token, query string, vars map[string]any) ([]byte, error) {
	res, err := linlitest.Send(c, url, token, query, vars)
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("sign-up failed: %w", err)
	}
	return res.Data, nil
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

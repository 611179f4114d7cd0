package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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

// postJSON sends one GraphQL request and returns the response body, failing
// on any GraphQL error.
func postJSON(c *http.Client, url, token, query string, vars map[string]any) ([]byte, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(b, []byte(`"errors"`)) {
		return nil, fmt.Errorf("sign-up failed: %s", b)
	}
	return b, nil
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

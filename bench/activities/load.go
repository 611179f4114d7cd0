package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// target is a server under load and the request it answers.
type target struct {
	name  string
	url   string
	token string
	body  []byte
}

func (t target) request(ctx context.Context) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(t.body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+t.token)
	return req, nil
}

// fetch returns one response body, failing on anything but 200.
func (t target) fetch(c *http.Client) ([]byte, error) {
	req, err := t.request(context.Background())
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: status %d: %.200s", t.name, resp.StatusCode, b)
	}
	return b, err
}

// hammer sends requests from workers goroutines for d and returns the
// completed requests per second and their number.
func (t target) hammer(c *http.Client, workers int, d time.Duration) (float64, int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, err := t.request(ctx)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				resp, err := c.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						once.Do(func() { firstErr = err })
					}
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if ctx.Err() != nil {
					return // cut off by the end of the round
				}
				if resp.StatusCode != http.StatusOK || err != nil {
					once.Do(func() { firstErr = fmt.Errorf("%s: status %d, %v", t.name, resp.StatusCode, err) })
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds(), done.Load(), firstErr
}

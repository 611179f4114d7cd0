package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
	return rounds(workers, d, func(ctx context.Context) error {
		req, err := t.request(ctx)
		if err != nil {
			return err
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if ctx.Err() == nil && (resp.StatusCode != http.StatusOK || err != nil) {
			return fmt.Errorf("%s: status %d, %v", t.name, resp.StatusCode, err)
		}
		return nil
	})
}

// rounds runs one from workers goroutines until d has passed and returns
// the completed runs per second and their number. A run cut off by the end
// of d is not counted, nor is its error; the first other error stops all.
func rounds(workers int, d time.Duration, one func(ctx context.Context) error) (float64, int64, error) {
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
				err := one(ctx)
				if ctx.Err() != nil {
					return // cut off by the end of the round
				}
				if err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds(), done.Load(), firstErr
}

// sqlTarget runs the bare handler's statements (session, activities, teams,
// venues, slots) in this process with no HTTP and no JSON: what the page
// costs the database and database/sql alone.
type sqlTarget struct {
	b     bare
	token string
	page  int
}

func (t sqlTarget) hammer(workers int, d time.Duration) (float64, int64, error) {
	return rounds(workers, d, func(ctx context.Context) error {
		community, staff, err := t.b.authenticate(ctx, t.token)
		if err != nil {
			return err
		}
		edges, err := t.b.page(ctx, community, staff, t.page)
		if err == nil && len(edges) != t.page {
			err = fmt.Errorf("sql: the page holds %d activities, want %d", len(edges), t.page)
		}
		return err
	})
}

// handlers are the two servers' handlers, for the in-process figures.
var handlers map[string]http.Handler

// serveOnce answers one request through h in this process.
func serveOnce(h http.Handler, t target) error {
	req, err := t.request(context.Background())
	if err != nil {
		return err
	}
	req.RemoteAddr = "127.0.0.1:40000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		return fmt.Errorf("%s: status %d: %.200s", t.name, w.Code, w.Body.Bytes())
	}
	return nil
}

package linlitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// Result is a decoded GraphQL response.
type Result struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the extensions.code of the first error, or "".
func (r *Result) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Field is the extensions.field of the first error, or "".
func (r *Result) Field() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["field"].(string)
	return c
}

// Decode unmarshals data into v, failing the test on errors.
func (r *Result) Decode(t testing.TB, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected GraphQL errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

// WantCode fails the test unless the first error has code.
func (r *Result) WantCode(t testing.TB, code string) {
	t.Helper()
	if r.Code() != code {
		t.Fatalf("want error code %s, got %q (status %d, errors %+v, data %s)", code, r.Code(), r.Status, r.Errors, r.Data)
	}
}

// Do posts a GraphQL request with an optional bearer token.
func (e *Env) Do(t testing.TB, token, query string, vars map[string]any) *Result {
	t.Helper()
	return Post(t, e.Server.Client(), e.Server.URL+"/graphql", token, query, vars)
}

// Post sends one GraphQL POST to url.
func Post(t testing.TB, c *http.Client, url, token, query string, vars map[string]any) *Result {
	t.Helper()
	res, err := Send(c, url, token, query, vars)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Send is Post for goroutines and load generators: it returns errors
// instead of failing a test.
func Send(c *http.Client, url, token, query string, vars map[string]any) (*Result, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST /graphql: %w", err)
	}
	defer resp.Body.Close()
	res := &Result{Status: resp.StatusCode}
	if err := json.NewDecoder(resp.Body).Decode(res); err != nil {
		return nil, fmt.Errorf("decode response (status %d): %w", resp.StatusCode, err)
	}
	return res, nil
}

// SendData is Send for callers that want only the data: a GraphQL error
// becomes a Go error.
func SendData(c *http.Client, url, token, query string, vars map[string]any) (json.RawMessage, error) {
	res, err := Send(c, url, token, query, vars)
	if err != nil {
		return nil, err
	}
	return res.Data, res.Err()
}

// Err is the first GraphQL error as a Go error, or nil.
func (r *Result) Err() error {
	if len(r.Errors) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", r.Code(), r.Errors[0].Message)
}

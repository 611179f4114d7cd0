package live_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"linli/linlitest"
)

// residents sign up for seats through the real signUp mutation, each
// person once (a person holds one registration per slot).
type residents struct {
	url    string
	client *http.Client
	tokens []string
	next   atomic.Int64
}

func newResidents(t testing.TB, e *linlitest.Env, communityID, n int) *residents {
	t.Helper()
	_, tokens := e.People(t, communityID, n, fmt.Sprintf("居民%d-", communityID))
	return &residents{url: e.Server.URL + "/graphql", client: e.Server.Client(), tokens: tokens}
}

// on returns the same people signing up through another replica.
func (r *residents) on(e *linlitest.Env) *residents {
	o := &residents{url: e.Server.URL + "/graphql", client: e.Server.Client(), tokens: r.tokens}
	o.next.Store(r.next.Load())
	return o
}

const signUpMutation = `mutation($slot: ID!) { signUp(input: {slotID: $slot}) { outcome registration { id status } } }`

// signUp signs the next person up for slot and returns the outcome.
func (r *residents) signUp(t testing.TB, slotID int) string {
	t.Helper()
	outcome, err := r.trySignUp(slotID)
	if err != nil {
		t.Fatal(err)
	}
	return outcome
}

// trySignUp is signUp for goroutines other than the test's.
func (r *residents) trySignUp(slotID int) (string, error) {
	i := int(r.next.Add(1) - 1)
	if i >= len(r.tokens) {
		return "", fmt.Errorf("all %d residents have signed up", len(r.tokens))
	}
	body, _ := json.Marshal(map[string]any{"query": signUpMutation, "variables": map[string]any{"slot": id(slotID)}})
	req, _ := http.NewRequest(http.MethodPost, r.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.tokens[i])
	resp, err := r.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var res struct {
		Data struct {
			SignUp struct{ Outcome string }
		}
		Errors []json.RawMessage
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return "", err
	}
	if len(res.Errors) > 0 {
		return "", fmt.Errorf("signUp: %s", res.Errors[0])
	}
	return res.Data.SignUp.Outcome, nil
}

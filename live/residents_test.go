package live_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
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
	data, err := linlitest.SendData(r.client, r.url, r.tokens[i], signUpMutation, map[string]any{"slot": id(slotID)})
	if err != nil {
		return "", fmt.Errorf("signUp: %w", err)
	}
	var out struct{ SignUp struct{ Outcome string } }
	if err := json.Unmarshal(data, &out); err != nil {
		return "", err
	}
	return out.SignUp.Outcome, nil
}

// signUpConcurrently signs n people up for slot from workers goroutines at
// once and waits for all of them; an error fails the test.
func (r *residents) signUpConcurrently(t testing.TB, slotID, n, workers int) {
	t.Helper()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range n / workers {
				if _, err := r.trySignUp(slotID); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

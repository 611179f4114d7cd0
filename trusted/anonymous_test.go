package trusted_test

import (
	"fmt"
	"testing"

	"linli/app"
	"linli/linlitest"
	"linli/trusted"
	"linli/viewer"
)

// One anonymous client cannot evict the shared store: documents it sends
// in full run but are not kept (their hashes stay PERSISTED_QUERY_NOT_FOUND,
// on which Apollo's link sends the document again), so a flood of them
// leaves a signed-in client's document in place.
func TestAnonymousClientsDoNotRegister(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, token := e.Person(t, c.ID, "章桂兰", viewer.Resident)
		post := transports[0]
		mine := `query Mine { viewer { displayName } }`
		if got := post.send(t, e, token, request{query: mine, hash: trusted.Hash(mine)}); got.code != "" {
			t.Fatalf("register: %+v", got)
		}
		for i := range 30 {
			d := fmt.Sprintf("query Flood%d { __typename }", i)
			if _, res := get(t, e, "", request{query: d, hash: trusted.Hash(d)}); res.answer().code != "" {
				t.Fatalf("anonymous document %d: %+v", i, res.answer())
			}
		}
		d := "query Flood0 { __typename }"
		if _, res := get(t, e, "", request{hash: trusted.Hash(d)}); res.answer().code != "PERSISTED_QUERY_NOT_FOUND" {
			t.Fatalf("an anonymous document was kept: %+v", res.answer())
		}
		if got := post.send(t, e, token, request{hash: trusted.Hash(mine)}); got.code != "" {
			t.Fatalf("the signed-in client's document was evicted: %+v", got)
		}
	}, func(c *app.Config) { c.PersistedQueries.MaxDocuments = 10 })
}

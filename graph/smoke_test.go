package graph_test

import (
	"testing"

	"linli/linlitest"
	"linli/viewer"
)

func TestSmoke(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "王芳", viewer.Coordinator)
		e.Activity(t, c.ID, linlitest.ActivitySpec{})
		res := e.Do(t, tok, `{ viewer { id displayName phone roles community { name } } activities(first: 10) { totalCount edges { node { id title slots { id name capacity taken } team { name } venue { name } } } } }`, nil)
		t.Logf("%s %+v", res.Data, res.Errors)
		res = e.Do(t, "", `mutation { register(input: {communityID: "`+itoa(c.ID)+`", phone: "13800001111", password: "secret-pass", displayName: "李雷"}) { token viewer { phone } } }`, nil)
		t.Logf("%s %+v", res.Data, res.Errors)
	})
}

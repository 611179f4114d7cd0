package linlitest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"
	"time"

	"linli/auth"
	"linli/ent"
	"linli/viewer"
)

// People creates n people in community cid (named prefix-0, prefix-1, …)
// with roles (RESIDENT always) and a token each, in a few bulk inserts: no
// password hashing or token issuing per person, so load tests can create
// thousands quickly.
func (e *Env) People(t testing.TB, cid, n int, prefix string, roles ...viewer.Role) ([]*ent.Person, []string) {
	t.Helper()
	people, tokens, err := BulkPeople(e.Sys(), e.Client, cid, n, prefix, roles...)
	if err != nil {
		t.Fatal(err)
	}
	return people, tokens
}

// BulkPeople is People for programs without a testing.TB (benchmarks).
// ctx must act as the system.
func BulkPeople(ctx context.Context, client *ent.Client, cid, n int, prefix string, roles ...viewer.Role) ([]*ent.Person, []string, error) {
	rs := []string{string(viewer.Resident)}
	for _, r := range roles {
		if r != viewer.Resident {
			rs = append(rs, string(r))
		}
	}
	const chunk = 500
	people := make([]*ent.Person, 0, n)
	tokens := make([]string, 0, n)
	expires := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second)
	for start := 0; start < n; start += chunk {
		end := min(n, start+chunk)
		creates := make([]*ent.PersonCreate, 0, end-start)
		for i := start; i < end; i++ {
			creates = append(creates, client.Person.Create().SetCommunityID(cid).
				SetDisplayName(fmt.Sprintf("%s-%d", prefix, i)).SetPhone(NextPhone()).
				SetPasswordHash(passwordHash()).SetRoles(rs))
		}
		batch, err := client.Person.CreateBulk(creates...).Save(ctx)
		if err != nil {
			return nil, nil, err
		}
		sessions := make([]*ent.SessionCreate, 0, len(batch))
		for _, p := range batch {
			raw := make([]byte, 32)
			_, _ = rand.Read(raw)
			tok := base64.RawURLEncoding.EncodeToString(raw)
			tokens = append(tokens, tok)
			sessions = append(sessions, client.Session.Create().SetTokenHash(auth.HashToken(tok)).
				SetPersonID(p.ID).SetCommunityID(cid).SetExpiresAt(expires))
		}
		if err := client.Session.CreateBulk(sessions...).Exec(ctx); err != nil {
			return nil, nil, err
		}
		for _, r := range roles {
			if r != viewer.Volunteer {
				continue
			}
			profiles := make([]*ent.VolunteerProfileCreate, 0, len(batch))
			for _, p := range batch {
				profiles = append(profiles, client.VolunteerProfile.Create().SetCommunityID(cid).SetPersonID(p.ID))
			}
			if err := client.VolunteerProfile.CreateBulk(profiles...).Exec(ctx); err != nil {
				return nil, nil, err
			}
		}
		people = append(people, batch...)
	}
	return people, tokens, nil
}

// ConcurrentClient is an HTTP client for storms of concurrent requests: it
// keeps up to n connections alive instead of opening a new one per request.
func ConcurrentClient(n int) *http.Client {
	return &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConns: n, MaxIdleConnsPerHost: n, MaxConnsPerHost: n},
	}
}

// ExecContext and QueryContext let raw SQL through Ent (Client.ExecContext,
// Tx.QueryContext, …) be counted like every other statement.

func (d *countingDriver) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	count(ctx, d.n)
	return d.Driver.(execQuerier).ExecContext(ctx, q, args...)
}

func (d *countingDriver) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	count(ctx, d.n)
	return d.Driver.(execQuerier).QueryContext(ctx, q, args...)
}

func (t *countingTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	count(ctx, t.n)
	return t.Tx.(execQuerier).ExecContext(ctx, q, args...)
}

func (t *countingTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	count(ctx, t.n)
	return t.Tx.(execQuerier).QueryContext(ctx, q, args...)
}

type execQuerier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// Package basegen writes the upgrade test's fixture: run it in a checkout
// of the release whose schema is the migration directory's first file
// (README, "Migrations, upgrades and backups"):
//
//	git worktree add /tmp/base <release>
//	mkdir -p /tmp/base/migrations && cp -r migrations/rowdump migrations/testdata/basegen /tmp/base/migrations/
//	(cd /tmp/base && LINLI_FIXTURE_OUT=$PWD/migrations/testdata/release-<release>.json.gz go test ./migrations/basegen)
//
// It loads the demo year into a fresh SQLite database with that release's
// code, dumps every row (rowdump), and asks that release's GraphQL API for
// the demo community's communityStatistics over the year.
package basegen

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"linli/demo"
	"linli/ent/community"
	"linli/ent/migrate"
	"linli/ent/person"
	"linli/linlitest"
	"linli/migrations/rowdump"
)

// Fixture is the file the upgrade test reads.
type Fixture struct {
	Release    string                    `json:"release"`
	Query      string                    `json:"query"`
	Variables  map[string]any            `json:"variables"`
	StaffPhone string                    `json:"staffPhone"`
	Statistics json.RawMessage           `json:"statistics"`
	Tables     map[string]*rowdump.Table `json:"tables"`
}

const statisticsQuery = `query($c: ID!, $from: Time!, $to: Time!) { communityStatistics(communityID: $c, from: $from, to: $to) {
  activitiesHeld participantPersonTimes attendeePersonTimes volunteerPersonTimes beneficiaryPersonTimes serviceHours
  registeredVolunteers residentPopulation volunteerShare requestsReceived requestsResolved disputesMediated homeVisits
  householdsVisited responseRate resolutionRate satisfactionRate
  byCategory { category activitiesHeld participantPersonTimes }
  byServiceType { serviceType activitiesHeld participantPersonTimes }
  byTeam { team { name } activitiesHeld volunteerPersonTimes serviceHours homeVisits }
  byMonth { month activitiesHeld participantPersonTimes requestsReceived } } }`

func TestWriteFixture(t *testing.T) {
	out := os.Getenv("LINLI_FIXTURE_OUT")
	if out == "" {
		t.Skip("set LINLI_FIXTURE_OUT to write the fixture")
	}
	e := linlitest.New(t, "sqlite")
	ctx := context.Background()
	if err := e.App.LoadDemo(ctx); err != nil {
		t.Fatal(err)
	}
	tables, err := rowdump.Dump(ctx, e.DB.SQL, migrate.Tables)
	if err != nil {
		t.Fatal(err)
	}
	const phone = "13800000001" // the demo community's coordinator
	staff, err := e.Client.Person.Query().Where(person.Phone(phone)).Only(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	com, err := e.Client.Community.Query().Where(community.Name(demo.Qianjin)).Only(e.Sys())
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.App.Auth.IssueToken(e.Sys(), staff.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(24 * time.Hour)
	vars := map[string]any{"c": e.ID(com.ID), "from": now.AddDate(-1, 0, 0).Format(time.RFC3339), "to": now.AddDate(0, 1, 0).Format(time.RFC3339)}
	res := e.Do(t, s.Token, statisticsQuery, vars)
	if len(res.Errors) > 0 {
		t.Fatalf("statistics: %+v", res.Errors)
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	if err := json.NewEncoder(zw).Encode(Fixture{Release: os.Getenv("LINLI_RELEASE"), Query: statisticsQuery, Variables: vars,
		StaffPhone: phone, Statistics: res.Data, Tables: tables}); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tab := range tables {
		n += len(tab.Rows)
	}
	t.Logf("wrote %d rows of %d tables and the statistics to %s", n, len(tables), out)
}

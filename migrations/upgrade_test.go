package migrations_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/schema/field"

	entmigrate "linli/ent/migrate"
	"linli/ent/person"
	"linli/linlitest"
	"linli/migrations"
	"linli/migrations/rowdump"
	"linli/store"
)

// releaseFixture is a year of demo data as a release wrote it, with that
// release's communityStatistics for it (written by testdata/basegen in a
// checkout of the release; README, "Migrations, upgrades and backups").
type releaseFixture struct {
	Release    string                    `json:"release"`
	Query      string                    `json:"query"`
	Variables  map[string]any            `json:"variables"`
	StaffPhone string                    `json:"staffPhone"`
	Statistics json.RawMessage           `json:"statistics"`
	Tables     map[string]*rowdump.Table `json:"tables"`
}

// droppedOnPurpose are the columns a migration removes on purpose, with
// the migration and why: the upgrade test expects them gone and every other
// column of those rows unchanged.
var droppedOnPurpose = map[string]string{
	"home_visits.idempotency_key": "20261208005542: retried home visits are remembered in idempotency_keys (package idem)",
	"requests.idempotency_key":    "20261208005542: retried submissions are remembered in idempotency_keys (package idem)",
}

// writtenAt is when the release wrote the fixture: its newest created_at.
// The release's statistics were taken then, and "held" counts activities
// started before now, so the upgraded answer is taken at the same moment.
func (fx *releaseFixture) writtenAt(t *testing.T) time.Time {
	t.Helper()
	var last time.Time
	for _, tab := range fx.Tables {
		i := slices.Index(tab.Columns, "created_at")
		if i < 0 {
			continue
		}
		for _, row := range tab.Rows {
			s, _ := row[i].(string)
			if at, err := time.Parse(time.RFC3339Nano, s); err == nil && at.After(last) {
				last = at
			}
		}
	}
	if last.IsZero() {
		t.Fatal("the fixture has no created_at")
	}
	return last
}

func readFixture(t *testing.T, path string) *releaseFixture {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(zr)
	dec.UseNumber()
	var fx releaseFixture
	if err := dec.Decode(&fx); err != nil {
		t.Fatal(err)
	}
	return &fx
}

// TestUpgradeFromRelease is the pattern for every schema change: the
// database is created with the migrations as released (the first file,
// the schema of release 26a09e2), filled with the year that release wrote,
// upgraded to the current migrations, and then every row must be as it was
// and the year's communityStatistics (through the API) the release's.
// A change that rewrites rows states the rewrite here, next to the check.
func TestUpgradeFromRelease(t *testing.T) {
	fx := readFixture(t, "testdata/release-26a09e2.json.gz")
	for _, backend := range linlitest.Backends {
		t.Run(backend, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			url := emptyDB(t, backend)
			db, err := store.Open(ctx, url, store.Options{MaxOpenConns: 4, NoMigrate: true})
			if err != nil {
				t.Fatal(err)
			}
			released := files(t, db.Dialect)[0].Version()
			if _, err := migrations.Up(ctx, db.SQL, db.Dialect, migrations.Options{To: released}); err != nil {
				t.Fatalf("migrate to the release: %v", err)
			}
			if err := rowdump.Load(ctx, db.SQL, !db.IsSQLite(), entmigrate.Tables, fx.Tables); err != nil {
				t.Fatal(err)
			}
			applied, err := migrations.Up(ctx, db.SQL, db.Dialect, migrations.Options{})
			if err != nil {
				t.Fatalf("upgrade: %v", err)
			}
			t.Logf("upgraded from %s through %v", released, applied)
			now, err := rowdump.Dump(ctx, db.SQL, entmigrate.Tables)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			isTime := map[string]bool{}
			for _, tab := range entmigrate.Tables {
				for _, c := range tab.Columns {
					isTime[tab.Name+"."+c.Name] = c.Type == field.TypeTime
				}
			}
			rows := 0
			for name, was := range fx.Tables {
				is := now[name]
				if is == nil {
					t.Errorf("table %s is gone", name)
					continue
				}
				rows += len(was.Rows)
				if len(is.Rows) != len(was.Rows) {
					t.Errorf("%s: %d rows, the release had %d", name, len(is.Rows), len(was.Rows))
					continue
				}
				col := map[string]int{}
				for i, c := range is.Columns {
					col[c] = i
				}
				for r, row := range was.Rows {
					for i, c := range was.Columns {
						j, ok := col[c]
						if !ok {
							if droppedOnPurpose[name+"."+c] == "" && r == 0 {
								t.Errorf("%s.%s is gone", name, c)
							}
							continue
						}
						old := row[i]
						if isTime[name+"."+c] {
							old = rowdump.Time(old)
						}
						if a, b := jsonOf(old), jsonOf(is.Rows[r][j]); a != b {
							t.Errorf("%s row %d: %s was %s, is %s", name, r, c, a, b)
						}
					}
				}
			}
			if rows < 1000 {
				t.Fatalf("the fixture holds only %d rows", rows)
			}

			for name, why := range droppedOnPurpose {
				tab, c, _ := strings.Cut(name, ".")
				if now[tab] != nil && slices.Contains(now[tab].Columns, c) {
					t.Errorf("%s is still there (%s)", name, why)
				}
			}

			e := linlitest.NewAt(t, backend, url)
			written := fx.writtenAt(t)
			e.App.Resolver.Statistics.Now = func() time.Time { return written }
			staff, err := e.Client.Person.Query().Where(person.Phone(fx.StaffPhone)).Only(e.Sys())
			if err != nil {
				t.Fatal(err)
			}
			s, err := e.App.Auth.IssueToken(e.Sys(), staff.ID)
			if err != nil {
				t.Fatal(err)
			}
			res := e.Do(t, s.Token, fx.Query, fx.Variables)
			var got, want any
			res.Decode(t, &got)
			if err := json.Unmarshal(fx.Statistics, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("communityStatistics after the upgrade:\n%s\nrelease %s:\n%s", res.Data, fx.Release, fx.Statistics)
			}
			t.Logf("%d rows of %d tables unchanged; statistics equal", rows, len(fx.Tables))
		})
	}
}

func jsonOf(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	_ = enc.Encode(v)
	return b.String()
}

package migrations_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"reflect"
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
							t.Errorf("%s.%s is gone", name, c)
							break
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

			e := linlitest.NewAt(t, backend, url)
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

package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"linli/app"
	"linli/ent/activity"
	"linli/linlitest"
	"linli/store"
	"linli/viewer"
)

const signUp = `mutation($s: ID!) { signUp(input: {slotID: $s}) { outcome } }`

// counters checks, in the database at url, that every slot's stored
// counters equal the sums of its registrations' seats, and returns the
// registration ids.
func counters(t *testing.T, url string) []int {
	t.Helper()
	db, err := store.Open(context.Background(), url, store.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.SQL.Query(`SELECT s.id, s.taken, s.waitlisted, s.pending,
		(SELECT coalesce(sum(seats), 0) FROM registrations r WHERE r.slot_id = s.id AND r.status IN ('CONFIRMED','CHECKED_IN','CHECKED_OUT')),
		(SELECT coalesce(sum(seats), 0) FROM registrations r WHERE r.slot_id = s.id AND r.status = 'WAITLISTED'),
		(SELECT coalesce(sum(seats), 0) FROM registrations r WHERE r.slot_id = s.id AND r.status = 'PENDING_APPROVAL')
		FROM slots s`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, taken, wl, pend, sTaken, sWl, sPend int
		if err := rows.Scan(&id, &taken, &wl, &pend, &sTaken, &sWl, &sPend); err != nil {
			t.Fatal(err)
		}
		if taken != sTaken || wl != sWl || pend != sPend {
			t.Fatalf("slot %d: counters taken %d waitlisted %d pending %d, rows sum to %d, %d, %d", id, taken, wl, pend, sTaken, sWl, sPend)
		}
	}
	var ids []int
	r2, err := db.SQL.Query("SELECT id FROM registrations ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	for r2.Next() {
		var id int
		_ = r2.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}

// statistics is the community's figures through the API of a linli on url.
func statistics(t *testing.T, url string, cid int) json.RawMessage {
	t.Helper()
	e := linlitest.NewAt(t, "sqlite", url)
	_, tok := e.Person(t, cid, "统计员", viewer.Coordinator)
	now := time.Now().UTC()
	res := e.Do(t, tok, `query($c: ID!, $from: Time!, $to: Time!) { communityStatistics(communityID: $c, from: $from, to: $to) {
		activitiesHeld participantPersonTimes attendeePersonTimes registeredVolunteers residentPopulation
		byCategory { category activitiesHeld participantPersonTimes } byMonth { month activitiesHeld participantPersonTimes } } }`,
		map[string]any{"c": e.ID(cid), "from": now.AddDate(0, -1, 0).Format(time.RFC3339), "to": now.AddDate(0, 1, 0).Format(time.RFC3339)})
	var v struct {
		S json.RawMessage `json:"communityStatistics"`
	}
	res.Decode(t, &v)
	return v.S
}

// TestBackupDuringSignUps backs up the embedded database with `server
// backup` while residents sign up over HTTP, restores it with `server
// restore` into a fresh file, and finds a consistent database: every
// sign-up confirmed before the backup started is in it, its registrations
// are a prefix of the source's (one moment of the source), and every
// slot's counters equal its rows. A second backup of the quiet source
// restores to the same statistics as the source's. Restoring over a
// database, in use or not, is refused.
func TestBackupDuringSignUps(t *testing.T) {
	e := linlitest.New(t, "sqlite")
	dir := t.TempDir()
	src := e.App.Config.DatabaseURL
	ctx := context.Background()
	com := e.Community(t, "前进社区")
	// A held activity (for statistics) and an open one (for the storm).
	_, held := e.Activity(t, com.ID, linlitest.ActivitySpec{Title: "已办", Category: activity.CategoryHALL, StartsAt: time.Now().UTC().Add(-72 * time.Hour)})
	_, slots := e.Activity(t, com.ID, linlitest.ActivitySpec{Title: "报名", Slots: []linlitest.SlotSpec{{Name: "座位", Capacity: 100}}})
	const residents = 160 // more than the seats: some are waitlisted
	tokens := make([]string, residents)
	for i := range tokens {
		_, tokens[i] = e.Person(t, com.ID, "居民")
	}
	_ = held

	var (
		next      atomic.Int64
		confirmed sync.Map // registration outcome per resident index, confirmed before the backup
		wg        sync.WaitGroup
	)
	started := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= residents {
					return
				}
				if i == residents/3 {
					close(started)
				}
				res, err := linlitest.Send(e.Server.Client(), e.Server.URL+"/graphql", tokens[i], signUp, map[string]any{"s": e.ID(slots[0].ID)})
				if err != nil || res.Err() != nil {
					t.Errorf("sign-up %d: %v %v", i, err, res)
					return
				}
				confirmed.Store(i, time.Now())
			}
		}()
	}
	<-started
	backupAt := time.Now()
	backup := filepath.Join(dir, "backup.db")
	if err := app.Backup(ctx, []string{backup, "-database-url", src}, io.Discard); err != nil {
		t.Fatalf("backup: %v", err)
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// Refusals: over the running source, over an existing file, to an existing backup.
	if err := app.Restore(ctx, []string{backup, "-database-url", src}, io.Discard); !errors.Is(err, store.ErrNotEmpty) || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("restore over the running database: want ErrNotEmpty (in use), got %v", err)
	}
	full := filepath.Join(dir, "full.db")
	if err := os.WriteFile(full, []byte("not empty"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := app.Restore(ctx, []string{backup, "-database-url", full}, io.Discard); !errors.Is(err, store.ErrNotEmpty) {
		t.Fatalf("restore over a file: want ErrNotEmpty, got %v", err)
	}
	if err := app.Backup(ctx, []string{backup, "-database-url", src}, io.Discard); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("backup over a file: want a refusal, got %v", err)
	}

	restored := filepath.Join(dir, "restored", "linli.db")
	if err := app.Restore(ctx, []string{backup, "-database-url", restored}, io.Discard); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if fi, err := os.Stat(restored); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("restored file: %v %v", fi, err)
	}
	got := counters(t, restored)
	all := counters(t, src)
	if len(all) != residents {
		t.Fatalf("source has %d registrations, want %d", len(all), residents)
	}
	// Every sign-up answered before the backup began is in it.
	before := 0
	confirmed.Range(func(_, v any) bool {
		if v.(time.Time).Before(backupAt) {
			before++
		}
		return true
	})
	if len(got) < before {
		t.Fatalf("the backup holds %d registrations, %d were confirmed before it began", len(got), before)
	}
	if !sort.IntsAreSorted(got) || !reflect.DeepEqual(got, all[:len(got)]) {
		t.Fatalf("the backup's registrations are not a prefix of the source's: %v", got)
	}
	t.Logf("backup during the storm: %d of %d sign-ups (%d confirmed before it began)", len(got), residents, before)

	// Quiet source: a backup restores to the same statistics.
	quiet := filepath.Join(dir, "quiet.db")
	if err := app.Backup(ctx, []string{quiet, "-database-url", src}, io.Discard); err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(dir, "again.db")
	if err := app.Restore(ctx, []string{quiet, "-database-url", again}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := counters(t, again); !reflect.DeepEqual(got, all) {
		t.Fatalf("quiet backup: %d registrations, source %d", len(got), len(all))
	}
	want := statistics(t, src, com.ID)
	if got := statistics(t, again, com.ID); string(got) != string(want) {
		t.Fatalf("statistics of the restored database:\n%s\nsource:\n%s", got, want)
	}
}

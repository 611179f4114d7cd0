package readlog_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"linli/readlog"
	"linli/viewer"
)

type sink struct {
	mu      sync.Mutex
	batches [][]readlog.Read
	fail    bool
}

func (s *sink) write(_ context.Context, rs []readlog.Read) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("database down")
	}
	s.batches = append(s.batches, append([]readlog.Read(nil), rs...))
	return nil
}

func (s *sink) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.batches {
		n += len(b)
	}
	return n
}

// TestWriterBatches: 50 people's phones read ten times each by one staff
// member are 50 entries written in one batch; the person's own phone, the
// system and kiosks are not noted; a failed write is kept for the next
// flush; Close writes what waits (a graceful shutdown loses nothing).
func TestWriterBatches(t *testing.T) {
	s := &sink{}
	w := readlog.New(s.write, nil, time.Hour) // no timed flush in this test
	staff := viewer.NewContext(readlog.NewContext(context.Background(), w), &viewer.Viewer{PersonID: 7, CommunityID: 1, Roles: []viewer.Role{viewer.Coordinator}})
	staff = readlog.WithPath(staff, "export:test")
	for range 10 {
		for p := 100; p < 150; p++ {
			readlog.Note(staff, 1, readlog.Phone, readlog.Person, p)
		}
	}
	readlog.Note(staff, 1, readlog.Phone, readlog.Person, 7) // their own
	readlog.Note(viewer.System(staff), 1, readlog.Phone, readlog.Person, 100)
	kiosk := viewer.NewContext(staff, &viewer.Viewer{KioskID: 3, CommunityID: 1})
	readlog.Note(kiosk, 1, readlog.Phone, readlog.Person, 100)
	readlog.Note(context.Background(), 1, readlog.Phone, readlog.Person, 100) // no writer: nothing

	s.fail = true
	if err := w.Flush(context.Background()); err == nil {
		t.Fatal("flush into a failing sink succeeded")
	}
	s.fail = false
	readlog.Note(staff, 1, readlog.CareTags, readlog.Household, 9)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if len(s.batches) != 1 || s.total() != 51 {
		t.Fatalf("%d batches, %d reads; want 1 batch of 51", len(s.batches), s.total())
	}
	for _, r := range s.batches[0] {
		if r.ActorID != 7 || r.CommunityID != 1 || r.Path != "export:test" || r.At.IsZero() {
			t.Fatalf("entry %+v", r)
		}
	}
	// After Close nothing is lost silently either: Close is idempotent.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestWriterFlushesOnTime: the flusher writes within its interval.
func TestWriterFlushesOnTime(t *testing.T) {
	s := &sink{}
	w := readlog.New(s.write, nil, 20*time.Millisecond)
	defer w.Close()
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{PersonID: 7, CommunityID: 1, Roles: []viewer.Role{viewer.Coordinator}})
	w.Note(ctx, 1, readlog.HealthSignup, readlog.Registration, 5)
	deadline := time.Now().Add(5 * time.Second)
	for s.total() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("not flushed within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

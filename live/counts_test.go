package live

import (
	"testing"
)

// A hand-out cut short by a newer reading leaves some subscribers behind;
// the next reading reaches them first, and reaches them even when the
// counts have not moved since (the poke that cut the hand-out short may
// have brought nothing new).
func TestAdvanceServesThoseLeftBehind(t *testing.T) {
	w := &countsWatcher{activityID: 1, subs: map[*countsSub]struct{}{}}
	subs := make([]*countsSub, 6)
	for i := range subs {
		subs[i] = &countsSub{snaps: make(chan *Snapshot, 1), sent: -1}
		w.subs[subs[i]] = struct{}{}
	}
	slots := func(taken int) []*SlotCounts {
		return []*SlotCounts{{SlotID: 9, Capacity: 10, Taken: taken}}
	}
	version := func(sn *Snapshot) int { return sn.counts.Version }

	snap, out := w.advance(3, slots(1))
	if version(snap) != 3 || len(out) != 6 {
		t.Fatalf("first reading: version %d to %d subscribers", version(snap), len(out))
	}
	for _, s := range out[:4] { // cut short after four
		s.offer(snap)
	}

	snap, out = w.advance(4, slots(2))
	if version(snap) != 4 || len(out) != 6 {
		t.Fatalf("second reading: version %d to %d subscribers", version(snap), len(out))
	}
	for _, s := range out[:2] {
		if s.sent != -1 {
			t.Fatalf("those the last hand-out missed must come first, got one that had version %d", s.sent)
		}
	}
	out[0].offer(snap) // cut short again after one

	snap, out = w.advance(4, slots(2)) // nothing moved
	if version(snap) != 4 || len(out) != 5 {
		t.Fatalf("an unchanged reading must still reach the 5 left behind, got %d", len(out))
	}
	for _, s := range out {
		s.offer(snap)
	}
	if _, out = w.advance(4, slots(2)); len(out) != 0 {
		t.Fatalf("everyone has the latest, yet %d are offered it again", len(out))
	}
	for _, s := range subs {
		if got := <-s.snaps; version(got) != 4 {
			t.Fatalf("a subscriber ends on version %d", version(got))
		}
	}
}

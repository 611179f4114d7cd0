package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/notification"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/events"
	"linli/notify"
	"linli/viewer"
)

// Op is one change to an activity's seats, decided under the activity's
// lock. Ops of one activity that arrive together are decided in one Batch,
// in arrival order (Submit); an op can also run inside a caller's
// transaction (Apply).
type Op interface {
	// ActivityID is the activity whose lock the op needs.
	ActivityID() int
	// Decide decides the op against the batch's state (which includes the
	// ops decided before it) and stages its writes on b. Decide is called
	// again from scratch if the batch is retried, so it resets whatever it
	// keeps. A coded error (apperr) refuses this op alone and must come
	// before the op staged or wrote anything; any other error fails the
	// whole batch, which then runs its ops one at a time.
	Decide(ctx context.Context, b *Batch) error
}

// Batch is one transaction's view of a locked activity: its row, its slots
// with the counters as decided so far, and the writes staged for commit.
// One transaction may hold the batches of several activities (a group),
// all locked by its first statement and written together.
type Batch struct {
	g        *group
	tx       *ent.Tx
	activity *ent.Activity
	version  int64
	now      time.Time

	regs    []*NewRegistration
	evs     []events.Event
	notes   []notify.Event
	applied bool
	// counted: an op that is not a DoorOp went ahead, so the activity's
	// counts event goes out (door ops announce their own).
	counted bool
}

// group is one transaction's batches and what they stage together.
type group struct {
	l       *Ledger
	tx      *ent.Tx
	now     time.Time
	batches map[int]*Batch // by activity
	ops     []Op
	slots   map[int]*slotState // every slot of the locked activities

	// standings of the people the group decides about (standing.go)
	standings standings

	// sign-ups: who signed up for which slot, the keys they carried and
	// the answers stored for them; afterInsert makes the keys once the
	// registrations have their ids
	signedUp    map[[2]int]bool
	signUpKeys  map[idemKey]*signUpOp
	storedKeys  map[idemKey]*ent.IdempotencyKey
	afterInsert []func() *ent.IdempotencyKeyCreate

	// door ops (checkin.go): the registrations they moved, as the batch
	// has them, the scans to record, and the first op to claim each key
	// (a kiosk's nonce); retry: the transaction runs again, so what the
	// ops read before the lock is read again under it
	doors  map[int]*door
	scans  []*ent.CheckInScanCreate
	claims map[any]Op
	retry  bool
	none   *Batch // door ops of no activity (unlocked)
}

type slotState struct {
	slot *ent.Slot // counters as decided so far
	// the counters and capacity as read under the lock
	taken, waitlisted, pending, capacity int
	dirty                                bool
	// checkedIn is the change of checked_in the batch's door ops made.
	checkedIn int
	// stub: the slot was not read (a group of door ops only); only its
	// checked_in changes.
	stub bool
}

// Tx is the batch's transaction; ops may write other rows through it (as
// the system: viewer.System), after they decided to go ahead.
func (b *Batch) Tx() *ent.Tx { return b.tx }

// Activity is the locked activity as read after the lock.
func (b *Batch) Activity() *ent.Activity { return b.activity }

// Version is the activity's counts_version this transaction wrote; new
// waiting registrations take it as their place in the line.
func (b *Batch) Version() int64 { return b.version }

// Now is the batch's time.
func (b *Batch) Now() time.Time { return b.now }

// Slot returns a slot of the locked activity with its counters as decided
// so far in this batch (NOT_FOUND for a slot of another activity). The
// returned slot is the batch's own: read it, change it only through Add.
func (b *Batch) Slot(_ context.Context, slotID int) (*ent.Slot, error) {
	st, ok := b.g.slots[slotID]
	if !ok || st.stub || b.activity == nil || st.slot.ActivityID != b.activity.ID {
		return nil, apperr.New(apperr.NotFound, "no such slot")
	}
	return st.slot, nil
}

// Counts is a change to a slot's counters, in seats.
type Counts struct{ Taken, Waitlisted, Pending int }

// Add stages a change of a slot's counters. It refuses (CAPACITY_FULL) a
// change that would take more seats than the slot has; the database checks
// the same again when the batch writes. The caller has applied the rules
// (Fits) that decide whether seats may be taken at all.
func (b *Batch) Add(ctx context.Context, slotID int, c Counts) error {
	s, err := b.Slot(ctx, slotID)
	if err != nil {
		return err
	}
	if c.Taken > 0 && s.Taken+c.Taken > s.Capacity {
		return apperr.New(apperr.CapacityFull, "this slot is full")
	}
	s.Taken += c.Taken
	s.Waitlisted += c.Waitlisted
	s.Pending += c.Pending
	b.g.slots[slotID].dirty = true
	return nil
}

// SetCapacity stages a slot's new capacity; it must not go below the seats
// taken (VALIDATION_FAILED on capacity: nobody loses a confirmed seat).
// Free seats then go to the head of the waitlist when the batch writes.
func (b *Batch) SetCapacity(ctx context.Context, slotID, capacity int) error {
	if capacity < 0 || capacity > MaxCapacity {
		return apperr.Invalid("capacity", "capacity must be between 0 and %d", MaxCapacity)
	}
	s, err := b.Slot(ctx, slotID)
	if err != nil {
		return err
	}
	if capacity < s.Taken {
		return apperr.Invalid("capacity", "%d seats are taken; capacity cannot go below that", s.Taken)
	}
	s.Capacity = capacity
	b.g.slots[slotID].dirty = true
	return nil
}

// NewRegistration is a registration a batch inserts (all of a batch's in
// one statement). After the commit, Registration is the row made.
type NewRegistration struct {
	SlotID, PersonID, Seats int
	Status                  registration.Status
	// ConsentAt records the explicit consent a health activity needs.
	ConsentAt    *time.Time
	CheckInCode  string
	CheckedInAt  *time.Time
	Registration *ent.Registration
}

// Register stages a registration in the locked activity. Its counters are
// the caller's to change (Add). A WAITLISTED one queues behind everyone
// waiting before this batch.
func (b *Batch) Register(r *NewRegistration) { b.regs = append(b.regs, r) }

// Publish stages events to announce after the commit.
func (b *Batch) Publish(evs ...events.Event) { b.evs = append(b.evs, evs...) }

// Notify stages notifications, enqueued with the group's writes (one
// statement for the whole transaction).
func (b *Batch) Notify(kind notification.Kind, r *ent.Registration, note string) {
	b.notes = append(b.notes, notify.Event{Kind: kind, CommunityID: r.CommunityID, ActivityID: r.ActivityID,
		RegistrationID: r.ID, PersonIDs: []int{r.PersonID}, Note: note, At: b.now})
}

// Changed is the event that tells personID their registration was changed
// by someone else.
func (b *Batch) Changed(registrationID, personID int, change string) events.Event {
	return events.Event{Kind: events.Registration, CommunityID: b.activity.CommunityID, ActivityID: b.activity.ID,
		RegistrationID: registrationID, PersonID: personID, Change: change}
}

// errRetry asks for the transaction to run again: what it read under the
// activity lock was changed by a writer that does not take that lock.
var errRetry = errors.New("ledger: concurrent change, retry")

// flush writes what the group's batches decided: promotions, the door
// ops' moves, the changed slots' counters in one guarded statement, the
// new registrations of all batches in one insert, the idempotency keys in
// another and the scans in a third.
func (g *group) flush(ctx context.Context) error {
	sys := viewer.System(ctx)
	if err := g.writeSlots(sys); err != nil {
		return err
	}
	if err := g.insertRegistrations(sys); err != nil {
		return err
	}
	if len(g.afterInsert) > 0 {
		keys := make([]*ent.IdempotencyKeyCreate, len(g.afterInsert))
		for i, f := range g.afterInsert {
			keys[i] = f()
		}
		if err := g.tx.IdempotencyKey.CreateBulk(keys...).Exec(sys); err != nil {
			return err
		}
	}
	if len(g.scans) > 0 {
		if err := g.tx.CheckInScan.CreateBulk(g.scans...).Exec(sys); err != nil {
			return err
		}
	}
	var notes []notify.Event
	for _, aid := range g.order() {
		notes = append(notes, g.batches[aid].notes...)
	}
	return notify.Emit(sys, g.tx, notes...)
}

// writeSlots promotes from the waitlists of the slots whose seats changed,
// moves the door ops' registrations and writes the slots' counters.
func (g *group) writeSlots(ctx context.Context) error {
	ids := make([]int, 0, len(g.slots))
	for id, st := range g.slots {
		if st.dirty || st.checkedIn != 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	changed := make([]*slotState, len(ids))
	for i, id := range ids {
		changed[i] = g.slots[id]
		if !changed[i].dirty {
			continue
		}
		if err := g.batches[changed[i].slot.ActivityID].promote(ctx, id); err != nil {
			return err
		}
	}
	if err := g.moveDoors(ctx); err != nil {
		return err
	}
	return g.writeCounts(ctx, changed)
}

// insertRegistrations inserts the registrations of all batches in one
// statement.
func (g *group) insertRegistrations(ctx context.Context) error {
	var creates []*ent.RegistrationCreate
	var made []*NewRegistration
	for _, aid := range g.order() {
		b := g.batches[aid]
		for _, r := range b.regs {
			creates = append(creates, g.tx.Registration.Create().SetCreatedAt(b.now).SetUpdatedAt(b.now).
				SetCommunityID(b.activity.CommunityID).SetActivityID(b.activity.ID).SetSlotID(r.SlotID).
				SetPersonID(r.PersonID).SetStatus(r.Status).SetSeats(r.Seats).SetQueueSeq(b.version).
				SetNillableConsentSensitiveAt(r.ConsentAt).SetCheckInCode(r.CheckInCode).
				SetNillableCheckedInAt(r.CheckedInAt))
			made = append(made, r)
		}
	}
	if len(creates) == 0 {
		return nil
	}
	rows, err := g.tx.Registration.CreateBulk(creates...).Save(ctx)
	if err != nil {
		return err
	}
	for i, r := range made {
		r.Registration = rows[i]
	}
	return nil
}

// order is the group's activities by id.
func (g *group) order() []int {
	ids := make([]int, 0, len(g.batches))
	for id := range g.batches {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

type counterColumn struct {
	name  string
	delta func(st *slotState) int
}

// counterColumns are the slot counters a batch changes, each with the
// change a slot's state holds.
var counterColumns = []counterColumn{
	{"capacity", func(st *slotState) int { return st.slot.Capacity - st.capacity }},
	{"taken", func(st *slotState) int { return st.slot.Taken - st.taken }},
	{"waitlisted", func(st *slotState) int { return st.slot.Waitlisted - st.waitlisted }},
	{"pending", func(st *slotState) int { return st.slot.Pending - st.pending }},
	{"checked_in", func(st *slotState) int { return st.checkedIn }},
}

// writeCounts writes the changed counters of slots as one statement,
// guarded: when seats taken or capacity change, each slot matches only
// while its seats taken fit its capacity, and the write fails unless every
// slot matched. Each changed column is written as a change, a CASE over the
// slot ids (the same as writing the values the batch decided, which were
// read under the lock), which lets door ops change checked_in without
// reading the slots; the columns nobody changed are left out.
func (g *group) writeCounts(ctx context.Context, slots []*slotState) error {
	changed := slices.DeleteFunc(slices.Clone(slots), func(st *slotState) bool {
		return !slices.ContainsFunc(counterColumns, func(c counterColumn) bool { return c.delta(st) != 0 })
	})
	if len(changed) == 0 {
		return nil
	}
	q, args := g.countsStatement(changed)
	res, err := g.tx.ExecContext(ctx, g.l.db.Rebind(q), args...)
	if err != nil {
		return err
	}
	if k, err := res.RowsAffected(); err != nil || k != int64(len(changed)) {
		return fmt.Errorf("ledger: guarded write of %d slots matched %d: %w", len(changed), k, errRetry)
	}
	return nil
}

// countsStatement is writeCounts' statement for the changed slots.
func (g *group) countsStatement(changed []*slotState) (string, []any) {
	n := len(changed)
	cases := "CASE id" + strings.Repeat(" WHEN ? THEN CAST(? AS INTEGER)", n) + " END"
	var set strings.Builder
	var args []any
	deltas := map[string][]any{}
	for _, c := range counterColumns {
		var col []any
		used := false
		for _, st := range changed {
			d := c.delta(st)
			col = append(col, st.slot.ID, d)
			used = used || d != 0
		}
		if used {
			deltas[c.name] = col
			fmt.Fprintf(&set, "%s = %s + %s, ", c.name, c.name, cases)
			args = append(args, col...)
		}
	}
	args = append(args, g.now)
	for _, st := range changed {
		args = append(args, st.slot.ID)
	}
	q := "UPDATE slots SET " + set.String() + "updated_at = ? WHERE id IN (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	taken, capacity := deltas["taken"], deltas["capacity"]
	if taken == nil && capacity == nil {
		return q, args
	}
	q += " AND taken"
	if taken != nil {
		q += " + " + cases
		args = append(args, taken...)
	}
	q += " <= capacity"
	if capacity != nil {
		q += " + " + cases
		args = append(args, capacity...)
	}
	return q, args
}

// promote fills free seats from the head of the slot's waitlist, first come
// first served (WaitlistOrder), those waiting before this batch first and
// then those it queued: it stops at the first registration whose seats do
// not fit, so nobody is overtaken.
func (b *Batch) promote(ctx context.Context, slotID int) error {
	s := b.g.slots[slotID].slot
	if s.WaitlistMode == slot.WaitlistModeOFFER {
		return b.offer(ctx, slotID) // offer.go
	}
	free := Free(s)
	if free <= 0 || s.Waitlisted <= 0 {
		return nil
	}
	head, err := b.tx.Registration.Query().
		Where(registration.SlotID(slotID), registration.StatusEQ(registration.StatusWAITLISTED)).
		Order(WaitlistOrder()...).Limit(free).All(ctx)
	if err != nil {
		return err
	}
	var ids []int
	total := 0
	blocked := false
	for _, r := range head {
		if total+r.Seats > free {
			blocked = true
			break
		}
		total += r.Seats
		ids = append(ids, r.ID)
		b.Publish(b.Changed(r.ID, r.PersonID, ChangePromoted))
		b.Notify(notification.KindWAITLIST_PROMOTED, r, "")
	}
	if len(ids) > 0 {
		n, err := b.tx.Registration.Update().
			Where(registration.IDIn(ids...), registration.StatusEQ(registration.StatusWAITLISTED)).
			SetStatus(registration.StatusCONFIRMED).SetUpdatedAt(b.now).Save(ctx)
		if err != nil {
			return err
		}
		if n != len(ids) {
			return errRetry
		}
	}
	if !blocked && len(head) < free {
		// Those queued in this batch come after everyone before it.
		for _, r := range b.regs {
			if r.SlotID != slotID || r.Status != registration.StatusWAITLISTED {
				continue
			}
			if total+r.Seats > free {
				break
			}
			total += r.Seats
			r.Status = registration.StatusCONFIRMED
		}
	}
	s.Taken += total
	s.Waitlisted -= total
	return nil
}

package ledger

// Check-ins and check-outs in a batch. A scan at the door is an Op whose
// decision is the scanner's (package scan supplies it in Decide, against
// the registration as the batch has it): the ledger keeps the state of the
// registrations the batch's door ops moved, writes their moves set-wise
// (one conditional UPDATE per move from one status to another, its count
// checked), their slots' checked_in in the guarded counter statement, and
// their scans in one insert. A group of door ops only locks its
// activities: it reads neither them nor their slots.

import (
	"cmp"
	"context"
	"slices"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/registration"
	"linli/viewer"
)

// DoorOp is a scan at the door that moves (or may move) the registration
// of DoorSeat. It reads neither its activity nor its slots from the Batch
// (Activity is nil and Slot refuses in a group of door ops only): it is
// decided on what it read before the lock and the state the batch keeps
// (Door).
type DoorOp interface {
	Op
	DoorSeat() Seat
}

// Preparer is an op that learns its activity by reading, in its batch's
// transaction before the lock, together with the batch's other such ops
// (one query for all: a scan reads its code's registration). Prepare is
// called on the first of them with all of them, in arrival order, at the
// start of every attempt of the transaction; ActivityID is asked after it.
// A DoorOp whose ActivityID is then 0 (a code nobody has) takes no lock:
// its Batch has no activity, and it can only record its scan.
type Preparer interface {
	Op
	Prepare(ctx context.Context, tx *ent.Tx, ops []Op) error
}

// DoorState is what a scan's decision reads of a registration.
type DoorState struct {
	Status                    registration.Status
	CheckedInAt, CheckedOutAt *time.Time
}

// door is a registration door ops of a group read or moved.
type door struct {
	seat Seat
	from registration.Status // as read
	now  DoorState           // as decided so far
}

// Door returns the registration of s as the batch has it: as moved by the
// ops decided before, else seen (what the op read before the lock). When
// the transaction runs again (a move matched fewer rows than decided: the
// registration changed between that read and the lock), every door
// registration of the group is read again under the lock first.
func (b *Batch) Door(ctx context.Context, s Seat, seen DoorState) (DoorState, error) {
	g := b.g
	if g.doors == nil {
		g.doors = map[int]*door{}
		if g.retry {
			if err := g.readDoors(ctx); err != nil {
				return DoorState{}, err
			}
		}
	}
	d := g.doors[s.RegistrationID]
	if d == nil {
		d = &door{seat: s, from: seen.Status, now: seen}
		g.doors[s.RegistrationID] = d
	}
	return d.now, nil
}

// readDoors reads the registrations of the group's door ops (one query).
func (g *group) readDoors(ctx context.Context) error {
	seats := map[int]Seat{}
	for _, o := range g.ops {
		if d, ok := o.(DoorOp); ok {
			if s := d.DoorSeat(); s.RegistrationID != 0 {
				seats[s.RegistrationID] = s
			}
		}
	}
	if len(seats) == 0 {
		return nil
	}
	var ids []int
	for id := range seats {
		ids = append(ids, id)
	}
	regs, err := g.tx.Registration.Query().Where(registration.IDIn(ids...)).
		Select(registration.FieldStatus, registration.FieldCheckedInAt, registration.FieldCheckedOutAt).All(viewer.System(ctx))
	if err != nil {
		return err
	}
	for _, r := range regs {
		st := DoorState{Status: r.Status, CheckedInAt: r.CheckedInAt, CheckedOutAt: r.CheckedOutAt}
		g.doors[r.ID] = &door{seat: seats[r.ID], from: r.Status, now: st}
	}
	return nil
}

// MoveDoor stages moving the registration of s (read through Door first)
// at the batch's time: CONFIRMED to CHECKED_IN, which counts its seats as
// checked in, or CHECKED_IN to CHECKED_OUT. Anything else is refused
// (CONFLICT); the decision said no before.
func (b *Batch) MoveDoor(s Seat, to registration.Status) error {
	d := b.g.doors[s.RegistrationID]
	at := b.now
	switch {
	case d == nil:
		return apperr.New(apperr.Conflict, "ledger: MoveDoor before Door")
	case d.now.Status == registration.StatusCONFIRMED && to == registration.StatusCHECKED_IN:
		d.now.CheckedInAt = &at
		b.g.countCheckIn(s, CheckedInChange(d.now.Status, to, s.Seats))
	case d.now.Status == registration.StatusCHECKED_IN && to == registration.StatusCHECKED_OUT:
		d.now.CheckedOutAt = &at
	default:
		return apperr.New(apperr.Conflict, "this registration cannot move from %s to %s", d.now.Status, to)
	}
	d.now.Status = to
	return nil
}

// countCheckIn adds n to the checked_in of s's slot.
func (g *group) countCheckIn(s Seat, n int) {
	st := g.slots[s.SlotID]
	if st == nil {
		st = &slotState{slot: &ent.Slot{ID: s.SlotID, ActivityID: s.ActivityID}, stub: true}
		g.slots[s.SlotID] = st
	}
	st.checkedIn += n
}

// RecordScan stages a scan record, inserted with the batch's others.
func (b *Batch) RecordScan(c *ent.CheckInScanCreate) { b.g.scans = append(b.g.scans, c) }

// Claim claims key (a device's nonce) for o in this transaction: it
// returns the op that claimed it first, or nil when o is the first.
func (b *Batch) Claim(key any, o Op) Op {
	g := b.g
	if g.claims == nil {
		g.claims = map[any]Op{}
	}
	if first, ok := g.claims[key]; ok {
		return first
	}
	g.claims[key] = o
	return nil
}

// moveKey is a set of registrations that move from one status to another.
type moveKey struct{ from, to registration.Status }

// moveDoors writes the door ops' moves: one conditional update per pair
// of statuses, which must match every registration it names (errRetry
// otherwise: one moved since it was read, and the batch runs again with
// what is there now).
func (g *group) moveDoors(ctx context.Context) error {
	sets := map[moveKey][]int{}
	var keys []moveKey
	for id, d := range g.doors {
		if d.now.Status == d.from {
			continue
		}
		k := moveKey{d.from, d.now.Status}
		if sets[k] == nil {
			keys = append(keys, k)
		}
		sets[k] = append(sets[k], id)
	}
	slices.SortFunc(keys, func(a, b moveKey) int {
		return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to))
	})
	for _, k := range keys {
		ids := sets[k]
		n, err := writeDoorMove(ctx, g.tx, ids, k.from, k.to, g.now, g.now)
		if err != nil {
			return err
		}
		if n != len(ids) {
			return errRetry
		}
	}
	return nil
}

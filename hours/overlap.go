package hours

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/person"
	"linli/ent/predicate"
	"linli/ent/servicerecord"
	"linli/viewer"
)

// ServiceTimeOverlap: a service record would overlap another of the same
// volunteer (apperr's code, named here beside its rule).
const ServiceTimeOverlap = apperr.ServiceTimeOverlap

// MaxVisitMinutes bounds the minutes of one home visit: half a day is the
// longest plausible stay; a longer service is an activity with its slots.
const MaxVisitMinutes = 12 * 60

// overlapping is the one overlap rule: a record of one of personIDs whose
// time meets [start, end) in more than an instant. Every writer of service
// records asks it (home visits refuse, check-outs at the door flag).
func overlapping(start, end time.Time, personIDs ...int) predicate.ServiceRecord {
	return servicerecord.And(servicerecord.PersonIDIn(personIDs...),
		servicerecord.StartedAtLT(end), servicerecord.EndedAtGT(start))
}

// Overlaps reports whether one of personIDs already has a service record
// overlapping [start, end), read in the writer's transaction, leaving out
// the records of registration exceptReg (its own, when one is rewritten).
func Overlaps(ctx context.Context, tx *ent.Tx, start, end time.Time, exceptReg *int, personIDs ...int) (bool, error) {
	if len(personIDs) == 0 || !end.After(start) {
		return false, nil
	}
	q := tx.ServiceRecord.Query().Where(overlapping(start, end, personIDs...))
	if exceptReg != nil {
		q.Where(servicerecord.Or(servicerecord.RegistrationIDIsNil(), servicerecord.RegistrationIDNEQ(*exceptReg)))
	}
	// As linli: the rule looks at every record of the volunteer, whoever asks.
	return q.Exist(viewer.System(ctx))
}

// RefuseOverlap is Overlaps as an error: SERVICE_TIME_OVERLAP on field
// when one of personIDs was already serving within [start, end).
func RefuseOverlap(ctx context.Context, tx *ent.Tx, field string, start, end time.Time, personIDs ...int) error {
	clash, err := Overlaps(ctx, tx, start, end, nil, personIDs...)
	if err != nil || !clash {
		return err
	}
	return &apperr.Error{Code: ServiceTimeOverlap, Field: field,
		Message: "a volunteer already has service recorded at that time"}
}

// OverlapReason flags a check-out's record whose time overlaps another of
// the volunteer's records: the scan happened, so it is kept, for review.
const OverlapReason = "与本人其他服务记录时间重叠，待核实"

// SelfRecordedReason flags the service record of someone who recorded
// their own service (a home visit listing its recorder): it waits for a
// second staff member's confirmServiceRecord, like a paper sheet's line.
const SelfRecordedReason = "本人自录：待另一位工作人员确认"

// LockVolunteers takes the write lock of personIDs' rows in tx, in order,
// so that two writers of one volunteer's service time (two visits at once)
// check for overlaps one after the other: on PostgreSQL the rows' locks, on
// SQLite the database's one write lock.
func LockVolunteers(ctx context.Context, tx *ent.Tx, personIDs []int) error {
	if len(personIDs) == 0 {
		return nil
	}
	ids := slices.Sorted(slices.Values(personIDs))
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(id))
	}
	// Integers only: nothing from the client is spliced into the statement.
	_, err := tx.ExecContext(ctx, "UPDATE "+person.Table+" SET "+person.FieldID+" = "+person.FieldID+" WHERE "+person.FieldID+" IN ("+b.String()+")")
	return err
}

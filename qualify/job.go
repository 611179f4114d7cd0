package qualify

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"linli/ent"
	"linli/ent/notification"
	"linli/ent/person"
	"linli/ent/qualification"
	"linli/jobs"
	"linli/notify"
	"linli/store"
	"linli/viewer"
)

// JobKind is the daily look for qualifications about to expire.
const JobKind = "qualify.expiring"

// NoticeDays is how long before its expiry date a qualification's holder
// and the community's staff are told (once per expiry date).
const NoticeDays = 30

// noticeBatch bounds the qualifications one run notifies about; the next
// run takes the rest.
const noticeBatch = 1000

// Register makes r run NotifyExpiring daily, once across the replicas
// (jobs.Periodic; at start too when a day has passed).
func Register(r *jobs.Runner, client *ent.Client, logger *slog.Logger) {
	if logger == nil {
		logger = slog.Default()
	}
	r.Periodic(JobKind, 24*time.Hour, func(ctx context.Context, _ *jobs.Claimed) error {
		n, err := NotifyExpiring(ctx, client, time.Now())
		if err != nil {
			return err
		}
		if n > 0 {
			logger.Info("qualifications expiring", slog.Int("notified", n))
		}
		return nil
	})
}

// NotifyExpiring tells the holders of qualifications in force that expire
// within NoticeDays (QUALIFICATION_EXPIRING), and each community's
// coordinators the list of theirs (QUALIFICATIONS_EXPIRING), and marks
// them told, in one transaction: a qualification is announced once per
// expiry date (a renewal to a new date is announced again when it nears).
// It returns how many qualifications it announced.
func NotifyExpiring(ctx context.Context, client *ent.Client, now time.Time) (int, error) {
	sys := viewer.System(ctx)
	qs, err := client.Qualification.Query().Where(InForceWhere(now), qualification.ValidUntilLTE(expiringBy(now, NoticeDays)),
		qualification.ExpiryNotifiedAtIsNil()).
		Order(ent.Asc(qualification.FieldCommunityID), ent.Asc(qualification.FieldValidUntil), ent.Asc(qualification.FieldID)).
		Limit(noticeBatch).WithKind().WithPerson().All(sys)
	if err != nil || len(qs) == 0 {
		return 0, err
	}
	byCommunity := map[int][]*ent.Qualification{}
	var order []int
	for _, q := range qs {
		if byCommunity[q.CommunityID] == nil {
			order = append(order, q.CommunityID)
		}
		byCommunity[q.CommunityID] = append(byCommunity[q.CommunityID], q)
	}
	at := now.UTC()
	err = store.Tx(sys, client, func(tx *ent.Tx) error {
		var evs []notify.Event
		var ids []int
		for _, cid := range order {
			var lines []string
			for _, q := range byCommunity[cid] {
				ids = append(ids, q.ID)
				evs = append(evs, notify.Event{Kind: notification.KindQUALIFICATION_EXPIRING, CommunityID: cid,
					PersonIDs: []int{q.PersonID}, Note: notify.QualificationNote(q.Edges.Kind.Name, q.ExpiresOn),
					Key: fmt.Sprintf("qualification:%d:%s", q.ID, q.ExpiresOn), At: at})
				lines = append(lines, notify.QualificationLine(q.Edges.Person.DisplayName, q.Edges.Kind.Name, q.ExpiresOn))
			}
			var staff []int
			err := tx.Person.Query().Where(person.CommunityID(cid), func(s *sql.Selector) {
				s.Where(sqljson.ValueContains(s.C(person.FieldRoles), string(viewer.Coordinator)))
			}).Select(person.FieldID).Scan(sys, &staff)
			if err != nil {
				return err
			}
			if len(staff) > 0 {
				evs = append(evs, notify.Event{Kind: notification.KindQUALIFICATIONS_EXPIRING, CommunityID: cid,
					PersonIDs: staff, Note: strings.Join(lines, "\n"),
					Key: fmt.Sprintf("qualifications:%d:%d", cid, ids[len(ids)-1]), At: at})
			}
		}
		if err := notify.Emit(sys, tx, evs...); err != nil {
			return err
		}
		return tx.Qualification.Update().Where(qualification.IDIn(ids...)).SetExpiryNotifiedAt(at).Exec(sys)
	})
	if err != nil {
		return 0, err
	}
	return len(qs), nil
}

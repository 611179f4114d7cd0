// Package entlog stores the sensitive-read log (package readlog) with Ent:
// the Writer's sink, and the Registration interceptor that notes health
// sign-ups. (readlog itself stays below authz and mask, which note reads.)
package entlog

import (
	"context"

	"linli/ent"
	"linli/ent/sensitiveread"
	"linli/readlog"
	"linli/store"
	"linli/viewer"
)

// Sink writes a batch with one bulk insert (one transaction), as the system.
func Sink(db *store.DB) readlog.Sink {
	return func(ctx context.Context, reads []readlog.Read) error {
		sys := viewer.System(ctx)
		return store.InTx(sys, db.Client, store.TxOptions{Lock: db.Writers()}, func(tx *ent.Tx) error {
			bulk := make([]*ent.SensitiveReadCreate, len(reads))
			for i, r := range reads {
				bulk[i] = tx.SensitiveRead.Create().SetCommunityID(r.CommunityID).SetActorID(r.ActorID).
					SetKind(sensitiveread.Kind(r.Kind)).SetSubjectType(r.SubjectType).SetSubjectID(r.SubjectID).
					SetPath(r.Path).SetClientAddress(r.ClientAddress).SetAt(r.At)
			}
			return tx.SensitiveRead.CreateBulk(bulk...).Exec(sys)
		})
	}
}

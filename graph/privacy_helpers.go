package graph

import (
	"context"
	"slices"

	"linli/apperr"
	"linli/audit"
	"linli/authz"
	"linli/graph/model"
	"linli/retention"
	"linli/viewer"
)

func retentionModel(cid int, p retention.Policy) *model.Retention {
	return &model.Retention{CommunityID: cid, ScanDays: p.ScanDays, RequestTextDays: p.RequestTextDays,
		CareTagDays: p.CareTagDays, NotificationDays: p.NotificationDays, ReadLogDays: p.ReadLogDays}
}

// verifier admits those who may verify the audit chain (authz.VerifiesAudit).
func verifier(ctx context.Context) error {
	switch v := viewer.FromContext(ctx); {
	case v == nil:
		return apperr.New(apperr.Unauthenticated, "authentication required")
	case !authz.VerifiesAudit(v):
		return apperr.New(apperr.Forbidden, "only platform admins verify the audit log")
	}
	return nil
}

func verificationModel(rep *audit.VerifyReport) *model.AuditVerification {
	out := &model.AuditVerification{Ok: len(rep.Broken) == 0, Checked: rep.Checked, Unchained: rep.Unchained,
		Broken: []*model.AuditChainBreak{}, Heads: []*model.AuditChainHead{}}
	for _, b := range rep.Broken {
		out.Broken = append(out.Broken, &model.AuditChainBreak{CommunityID: b.CommunityID, EntryID: b.EntryID, Seq: int(b.Seq), Reason: b.Reason})
	}
	cids := make([]int, 0, len(rep.Heads))
	for cid := range rep.Heads {
		cids = append(cids, cid)
	}
	slices.Sort(cids)
	for _, cid := range cids {
		out.Heads = append(out.Heads, &model.AuditChainHead{CommunityID: cid, Head: rep.Heads[cid]})
	}
	return out
}

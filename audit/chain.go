package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"entgo.io/ent/dialect"

	"linli/ent"
	"linli/ent/auditentry"
	"linli/viewer"
)

// The audit log is tamper-evident: each community's entries form a hash
// chain. An entry's seq is its place in the chain (1, 2, …) and its hash is
// sha256 over the previous entry's hash and this entry's fields, so editing,
// removing or reordering an entry breaks every link after it, and Verify
// names the first broken one.
//
// Appends are serialised per community so two transactions never fork the
// chain: on PostgreSQL the appending transaction first takes a transaction
// advisory lock on chainLockClass<<40 ^ community (IDs are below 2^40),
// held until it commits or
// rolls back, then reads the chain's head; the next appender of the
// community waits for that commit and reads the new head. On SQLite a
// transaction that writes holds the database's one write lock (and linli's
// writers queue on DB.Writers), and a transaction that read an older head
// fails to upgrade and is retried. The lock is per community, so the
// communities' audited actions do not wait for each other, and it is held
// only by transactions that audit (role changes, approvals, exports…), not
// by sign-ups or check-ins.
//
// The chain does not prove that the newest entries were not removed
// together (the head carries no outside anchor): an operator who needs
// that records the head (VerifyReport.Heads) elsewhere, e.g. in the
// monthly report.

const chainLockClass int64 = 0x6c69 // "li"

// sealed is what an entry's hash covers, in a fixed encoding.
type sealed struct {
	Prev      string `json:"prev"`
	Seq       int64  `json:"seq"`
	Community int    `json:"community"`
	Actor     string `json:"actor"`
	Action    string `json:"action"`
	Subject   string `json:"subject"`
	SubjectID string `json:"subject_id"`
	Detail    string `json:"detail"`
	Address   string `json:"address"`
	At        string `json:"at"`
}

func optID(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

// Hash is the chain hash of e after prev.
func Hash(prev string, e *ent.AuditEntry) string {
	b, _ := json.Marshal(sealed{
		Prev: prev, Seq: e.Seq, Community: e.CommunityID, Actor: optID(e.ActorID), Action: e.Action,
		Subject: e.Subject, SubjectID: optID(e.SubjectID), Detail: e.Detail, Address: e.ClientAddress,
		At: e.At.UTC().Format(time.RFC3339Nano),
	})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// head locks community cid's chain for this transaction (PostgreSQL) and
// returns its last seq and hash.
func head(ctx context.Context, c *ent.Client, cid int) (int64, string, error) {
	if c.Dialect() == dialect.Postgres {
		if _, err := c.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", chainLockClass<<40^int64(cid)); err != nil {
			return 0, "", err
		}
	}
	last, err := c.AuditEntry.Query().Where(auditentry.CommunityID(cid), auditentry.SeqGT(0)).
		Order(ent.Desc(auditentry.FieldSeq)).Select(auditentry.FieldSeq, auditentry.FieldHash).First(ctx)
	switch {
	case ent.IsNotFound(err):
		return 0, "", nil
	case err != nil:
		return 0, "", err
	}
	return last.Seq, last.Hash, nil
}

// Break is the first broken link of a community's chain.
type Break struct {
	CommunityID int
	// EntryID is the entry at which the chain breaks, Seq its place.
	EntryID int
	Seq     int64
	Reason  string
}

func (b *Break) Error() string {
	return fmt.Sprintf("community %d: audit chain broken at entry %d (seq %d): %s", b.CommunityID, b.EntryID, b.Seq, b.Reason)
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	// Entries checked, and those written before the chain existed (seq 0,
	// not covered).
	Checked, Unchained int
	// Heads is each community's last seq and hash: record them elsewhere to
	// detect a removal of the newest entries.
	Heads map[int]string
	// Broken is the first broken link of each community that has one.
	Broken []*Break
}

// verifyPage is the entries read at a time.
const verifyPage = 1000

// Verify checks the chain of community communityID (nil: every community)
// entry by entry, as the system (callers decide who may ask).
func Verify(ctx context.Context, c *ent.Client, communityID *int) (*VerifyReport, error) {
	ctx = viewer.System(ctx)
	var ids []int
	if communityID != nil {
		ids = []int{*communityID}
	} else {
		var err error
		if ids, err = c.AuditEntry.Query().GroupBy(auditentry.FieldCommunityID).Ints(ctx); err != nil {
			return nil, err
		}
	}
	rep := &VerifyReport{Heads: map[int]string{}}
	for _, cid := range ids {
		if err := verifyCommunity(ctx, c, cid, rep); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func verifyCommunity(ctx context.Context, c *ent.Client, cid int, rep *VerifyReport) error {
	// Entries from before the chain: all of them must precede its first
	// entry (a chained entry stripped of its seq shows up after it).
	first, err := c.AuditEntry.Query().Where(auditentry.CommunityID(cid), auditentry.SeqGT(0)).
		Order(ent.Asc(auditentry.FieldSeq)).First(ctx)
	if ent.IsNotFound(err) {
		n, err := c.AuditEntry.Query().Where(auditentry.CommunityID(cid)).Count(ctx)
		rep.Unchained += n
		return err
	} else if err != nil {
		return err
	}
	legacy, err := c.AuditEntry.Query().Where(auditentry.CommunityID(cid), auditentry.Seq(0)).
		Order(ent.Asc(auditentry.FieldID)).All(ctx)
	if err != nil {
		return err
	}
	rep.Unchained += len(legacy)
	for _, e := range legacy {
		if e.ID > first.ID {
			rep.Broken = append(rep.Broken, &Break{CommunityID: cid, EntryID: e.ID, Reason: "an entry outside the chain was written after the chain began"})
			return nil
		}
	}
	prev, want := "", int64(1)
	for {
		page, err := c.AuditEntry.Query().Where(auditentry.CommunityID(cid), auditentry.SeqGTE(want)).
			Order(ent.Asc(auditentry.FieldSeq), ent.Asc(auditentry.FieldID)).Limit(verifyPage).All(ctx)
		if err != nil {
			return err
		}
		for _, e := range page {
			rep.Checked++
			switch {
			case e.Seq != want:
				reason := fmt.Sprintf("expected seq %d, found %d (an entry is missing)", want, e.Seq)
				if e.Seq < want {
					reason = fmt.Sprintf("seq %d appears twice", e.Seq)
				}
				rep.Broken = append(rep.Broken, &Break{CommunityID: cid, EntryID: e.ID, Seq: e.Seq, Reason: reason})
				return nil
			case Hash(prev, e) != e.Hash:
				rep.Broken = append(rep.Broken, &Break{CommunityID: cid, EntryID: e.ID, Seq: e.Seq,
					Reason: "the hash does not match the entry (it or the one before it was changed)"})
				return nil
			}
			prev, want = e.Hash, want+1
		}
		if len(page) < verifyPage {
			break
		}
	}
	rep.Heads[cid] = fmt.Sprintf("%d:%s", want-1, prev)
	return nil
}

package app

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"linli/audit"
	"linli/store"
)

// ErrAuditBroken is VerifyAudit's answer when a chain is broken.
var ErrAuditBroken = fmt.Errorf("the audit log's hash chain is broken")

// VerifyAudit is `server verify-audit [flags]`: it opens the database the
// flags and environment name (as the server would), checks every
// community's audit chain (audit.Verify) and writes the result to out:
// each community's head, or its first broken link. It returns
// ErrAuditBroken when a chain is broken.
func VerifyAudit(ctx context.Context, args []string, out io.Writer) error {
	cfg, _, err := configure(args)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.Store)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := audit.Verify(ctx, db.Client, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "checked %d entries (%d written before the chain)\n", rep.Checked, rep.Unchained)
	for _, cid := range slices.Sorted(maps.Keys(rep.Heads)) {
		fmt.Fprintf(out, "community %d: intact, head %s\n", cid, rep.Heads[cid])
	}
	for _, b := range rep.Broken {
		fmt.Fprintln(out, b.Error())
	}
	if len(rep.Broken) > 0 {
		return ErrAuditBroken
	}
	return nil
}

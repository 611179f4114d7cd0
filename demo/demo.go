// Package demo fills an empty linli database with a demo that looks like the
// real thing: 前进社区 (枞阳镇, 铜陵市) with its six volunteer teams, venues,
// about 370 volunteers and a year of past and upcoming activities, plus a
// small second community, 红旗社区, so that the separation of communities can
// be seen. Generated people have fictional names and cannot sign in; the
// accounts in Accounts can.
package demo

import (
	"context"
	"fmt"
	"time"

	"linli/ent"
	"linli/viewer"
)

// Load loads the demo into client's database if it holds no community yet,
// and reports whether it did. Everything is written in one transaction, so a
// failed load leaves the database empty and the next start tries again.
func Load(ctx context.Context, client *ent.Client) (loaded bool, err error) {
	ctx = viewer.System(ctx)
	if empty, err := isEmpty(ctx, client); err != nil || !empty {
		return false, err
	}
	plan := buildPlan(time.Now())
	hashes, err := hashPasswords(plan)
	if err != nil {
		return false, fmt.Errorf("demo: hash passwords: %w", err)
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return false, fmt.Errorf("demo: begin: %w", err)
	}
	// Checked again inside the transaction: another replica may have loaded
	// the demo meanwhile.
	if empty, err := isEmpty(ctx, tx.Client()); err != nil || !empty {
		return false, rollback(tx, err)
	}
	err = write(ctx, tx.Client(), plan, hashes)
	if err == nil {
		err = writeRequests(ctx, tx.Client(), time.Now())
	}
	if err == nil {
		err = writeQualifications(ctx, tx.Client(), time.Now())
	}
	if err == nil {
		err = writeSeries(ctx, tx.Client(), time.Now())
	}
	if err != nil {
		err = rollback(tx, err)
		// Two replicas that start together on PostgreSQL both see an empty
		// database; the later one then fails on the unique phone numbers
		// once the first commits. That is not an error: the demo is there.
		if ent.IsConstraintError(err) {
			if empty, cerr := isEmpty(ctx, client); cerr == nil && !empty {
				return false, nil
			}
		}
		return false, fmt.Errorf("demo: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("demo: commit: %w", err)
	}
	return true, nil
}

func isEmpty(ctx context.Context, client *ent.Client) (bool, error) {
	exists, err := client.Community.Query().Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("demo: look for communities: %w", err)
	}
	return !exists, nil
}

func rollback(tx *ent.Tx, err error) error {
	if rerr := tx.Rollback(); rerr != nil && err == nil {
		return rerr
	}
	return err
}

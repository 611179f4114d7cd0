package ledger

import (
	"context"
	"slices"
	"time"

	"linli/ent"
	"linli/qualify"
	"linli/reliability"
)

// standings are the people's standings a group loaded: for the people of
// all its sign-ups at once (one statement for qualifications, one for
// no-shows, and only when a slot of the group asks for them), and for
// anyone else (an approval's person) on first use.
type standings struct {
	loaded bool
	by     map[int]Standing
	names  map[int]string
	// months is each community's forgiveness window.
	months map[int]int
}

// peopleOf is implemented by the ops whose people the group loads up
// front: a sign-up's signer, a team sign-up's members.
type peopleOf interface{ people() []int }

func (o *signUpOp) people() []int { return []int{o.v.PersonID} }

// Standing returns what the ledger knows of personID at the batch's
// moment. The first call loads the standings of every person of the
// group's ops (peopleOf); a person outside them is loaded alone.
func (b *Batch) Standing(ctx context.Context, personID int) (Standing, error) {
	g := b.g
	if !g.standings.loaded {
		var people []int
		for _, op := range g.ops {
			if p, ok := op.(peopleOf); ok {
				people = append(people, p.people()...)
			}
		}
		if err := g.loadStandings(ctx, append(people, personID)); err != nil {
			return Standing{}, err
		}
		g.standings.loaded = true
	}
	if st, ok := g.standings.by[personID]; ok {
		return st, nil
	}
	if err := g.loadStandings(ctx, []int{personID}); err != nil {
		return Standing{}, err
	}
	return g.standings.by[personID], nil
}

// loadStandings loads people's standings against the group's slots: the
// qualifications any of them requires, and the no-shows when any has a
// limit (in the community of the group's first such slot: a group's
// activities are one community's in practice; people of another community
// are refused before eligibility matters).
func (g *group) loadStandings(ctx context.Context, people []int) error {
	people = slices.Compact(slices.Sorted(slices.Values(people)))
	st := &g.standings
	if st.by == nil {
		st.by, st.names, st.months = map[int]Standing{}, map[int]string{}, map[int]int{}
	}
	var kinds []int
	limitIn := 0
	for _, s := range g.slots {
		if s.stub {
			continue
		}
		kinds = append(kinds, s.slot.RequiredQualifications...)
		if s.slot.NoShowLimit != nil && limitIn == 0 {
			limitIn = s.slot.CommunityID
		}
	}
	kinds = slices.Compact(slices.Sorted(slices.Values(kinds)))
	client := g.tx.Client()
	holds, err := qualify.Held(ctx, client, people, kinds, g.now)
	if err != nil {
		return err
	}
	if missing := slices.DeleteFunc(slices.Clone(kinds), func(k int) bool { _, ok := st.names[k]; return ok }); len(missing) > 0 {
		names, err := qualify.KindNames(ctx, client, missing)
		if err != nil {
			return err
		}
		for k, n := range names {
			st.names[k] = n
		}
	}
	var noShows map[int]int
	if limitIn != 0 {
		months, ok := st.months[limitIn]
		if !ok {
			if months, err = reliability.WindowMonths(ctx, client, limitIn); err != nil {
				return err
			}
			st.months[limitIn] = months
		}
		if noShows, err = reliability.Count(ctx, client, people, g.now, months); err != nil {
			return err
		}
	}
	for _, p := range people {
		st.by[p] = Standing{Holds: holds[p], NoShows: noShows[p], names: st.names}
	}
	return nil
}

// LoadStanding is one person's standing for a decision outside a batch (a
// walk-in at the door): the qualifications slot s requires, held at now.
// No-shows do not matter to someone who came.
func LoadStanding(ctx context.Context, client *ent.Client, personID int, s *ent.Slot, now time.Time) (Standing, error) {
	if len(s.RequiredQualifications) == 0 {
		return Standing{}, nil
	}
	holds, err := qualify.Held(ctx, client, []int{personID}, s.RequiredQualifications, now)
	if err != nil {
		return Standing{}, err
	}
	names, err := qualify.KindNames(ctx, client, s.RequiredQualifications)
	if err != nil {
		return Standing{}, err
	}
	return Standing{Holds: holds[personID], names: names}, nil
}

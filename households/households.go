// Package households holds the community's side of its residents: onboarding
// a community, its households (住户, with their care tags), home visits
// (上门服务, whose minutes become volunteers' service records) and the import
// of the spreadsheets a community already keeps (households, residents and
// volunteers). Writes run as the calling viewer, so the Ent privacy rules
// (authz.Households, authz.HomeVisits) decide who may make them; this package
// adds the domain checks and clear, coded refusals.
package households

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"linli/apperr"
	"linli/audit"
	"linli/auth"
	"linli/authz"
	"linli/ent"
	"linli/events"
	"linli/scan"
	"linli/viewer"
)

// Service runs the households work.
type Service struct {
	Client *ent.Client
	// Events is told, after commit, of people whose roles an import changed.
	Events events.Publisher
	// BackEntryDays is how long after a home visit it may be recorded
	// (-back-entry-days, as for paper sign-in sheets; 0: the default).
	BackEntryDays int
}

func (s *Service) backEntryDays() int {
	if s.BackEntryDays > 0 {
		return s.BackEntryDays
	}
	return scan.DefaultBackEntryDays
}

// Audited actions.
const (
	ActionCareTagsSet      = "household.care_tags_set"
	ActionImportHouseholds = "import.households"
	ActionImportPeople     = "import.people"
)

// CareTags are the care tags in the order the API lists them.
var CareTags = []string{"EMPTY_NEST", "LOST_ONLY_CHILD", "DISABILITY", "LEFT_BEHIND_CHILD", "LOW_INCOME", "UNEMPLOYED"}

// text trims s and checks its length in characters.
func text(field, s string, minLen, maxLen int) (string, error) {
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n < minLen || n > maxLen {
		if minLen > 0 {
			return "", apperr.Invalid(field, "%s must be %d to %d characters", field, minLen, maxLen)
		}
		return "", apperr.Invalid(field, "%s must be at most %d characters", field, maxLen)
	}
	return s, nil
}

// CommunityInput is what createCommunity is given.
type CommunityInput struct {
	Name                           string
	Town, City                     *string
	Households, ResidentPopulation *int
	AreaKm2                        *float64
}

// CreateCommunity creates a community (platform admins). Its first
// coordinator registers in it and is named with setRoles.
func (s *Service) CreateCommunity(ctx context.Context, in CommunityInput) (*ent.Community, error) {
	if _, err := authz.Require(ctx, (*viewer.Viewer).IsAdmin, "only platform admins create communities"); err != nil {
		return nil, err
	}
	name, err := text("input.name", in.Name, 1, 100)
	if err != nil {
		return nil, err
	}
	c := s.Client.Community.Create().SetName(name)
	for _, f := range []struct {
		field string
		value *string
		set   func(string) *ent.CommunityCreate
	}{{"input.town", in.Town, c.SetTown}, {"input.city", in.City, c.SetCity}} {
		if f.value == nil {
			continue
		}
		v, err := text(f.field, *f.value, 0, 100)
		if err != nil {
			return nil, err
		}
		f.set(v)
	}
	for _, f := range []struct {
		field string
		value *int
		set   func(int) *ent.CommunityCreate
	}{{"input.households", in.Households, c.SetHouseholds}, {"input.residentPopulation", in.ResidentPopulation, c.SetResidentPopulation}} {
		if f.value == nil {
			continue
		}
		if *f.value < 0 || *f.value > 10_000_000 {
			return nil, apperr.Invalid(f.field, "%s must be 0 to 10000000", f.field)
		}
		f.set(*f.value)
	}
	if a := in.AreaKm2; a != nil {
		if math.IsNaN(*a) || *a < 0 || *a > 100_000 {
			return nil, apperr.Invalid("input.areaKm2", "areaKm2 must be 0 to 100000")
		}
		c.SetAreaKm2(*a)
	}
	return c.Save(ctx)
}

// HouseholdInput is a household to create, or (nil fields kept) the change
// to one.
type HouseholdInput struct {
	Address, HeadName, Phone *string
	Size                     *int
	// CareTags, when not nil, replaces the tags.
	CareTags []string
}

// checked is a HouseholdInput validated and normalised.
type checked struct {
	address, headName, phone *string
	size                     *int
	careTags                 []string
}

// check validates in; prefix names its fields ("input.").
func check(in HouseholdInput, prefix string) (checked, error) {
	var out checked
	if in.Address != nil {
		a, err := text(prefix+"address", normalizeSpace(*in.Address), 1, 300)
		if err != nil {
			return out, err
		}
		out.address = &a
	}
	if in.HeadName != nil {
		h, err := text(prefix+"headName", *in.HeadName, 1, 100)
		if err != nil {
			return out, err
		}
		out.headName = &h
	}
	if in.Phone != nil {
		p := strings.TrimSpace(*in.Phone)
		if p != "" {
			n, err := auth.NormalizePhone(p)
			if err != nil {
				return out, apperr.Invalid(prefix+"phone", "phone must be 6 to 15 digits")
			}
			p = n
		}
		out.phone = &p
	}
	if in.Size != nil {
		if *in.Size < 1 || *in.Size > 50 {
			return out, apperr.Invalid(prefix+"size", "size must be 1 to 50")
		}
		out.size = in.Size
	}
	if in.CareTags != nil {
		tags, err := normalizeTags(in.CareTags)
		if err != nil {
			return out, apperr.Invalid(prefix+"careTags", "%s", err.Error())
		}
		out.careTags = tags
	}
	return out, nil
}

// normalizeSpace collapses runs of white space (an address typed with two
// spaces is the same address).
func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

type tagError string

func (e tagError) Error() string { return string(e) }

// normalizeTags sorts and deduplicates care tags, refusing unknown ones.
func normalizeTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if !slices.Contains(CareTags, t) {
			return nil, tagError("unknown care tag " + t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

// CreateHousehold creates a household in the viewer's community (staff).
func (s *Service) CreateHousehold(ctx context.Context, in HouseholdInput) (*ent.Household, error) {
	v, err := authz.Require(ctx, (*viewer.Viewer).IsStaff, "only coordinators may create households")
	if err != nil {
		return nil, err
	}
	if in.Address == nil || in.HeadName == nil || in.Size == nil {
		return nil, apperr.Invalid("input", "address, headName and size are required")
	}
	c, err := check(in, "input.")
	if err != nil {
		return nil, err
	}
	create := s.Client.Household.Create().SetCommunityID(v.CommunityID).
		SetAddress(*c.address).SetHeadName(*c.headName).SetSize(*c.size).SetCareTags(orEmpty(c.careTags))
	if c.phone != nil {
		create.SetPhone(*c.phone)
	}
	h, err := create.Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, &apperr.Error{Code: apperr.Conflict, Field: "input.address", Message: "a household with this address exists", Err: err}
	}
	return h, err
}

func orEmpty(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}

// UpdateHousehold changes a household of the viewer's community (staff).
func (s *Service) UpdateHousehold(ctx context.Context, id int, in HouseholdInput) (*ent.Household, error) {
	if _, err := authz.Require(ctx, (*viewer.Viewer).IsStaff, "only coordinators may change households"); err != nil {
		return nil, err
	}
	c, err := check(in, "input.")
	if err != nil {
		return nil, err
	}
	old, err := s.Client.Household.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such household")
	} else if err != nil {
		return nil, err
	}
	tx, err := s.Client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	u := tx.Household.UpdateOneID(id)
	if c.address != nil {
		u.SetAddress(*c.address)
	}
	if c.headName != nil {
		u.SetHeadName(*c.headName)
	}
	if c.phone != nil {
		u.SetPhone(*c.phone)
	}
	if c.size != nil {
		u.SetSize(*c.size)
	}
	if c.careTags != nil {
		u.SetCareTags(c.careTags)
	}
	h, err := u.Save(ctx)
	switch {
	case ent.IsConstraintError(err):
		return nil, &apperr.Error{Code: apperr.Conflict, Field: "input.address", Message: "a household with this address exists", Err: err}
	case ent.IsNotFound(err):
		return nil, apperr.New(apperr.NotFound, "no such household")
	case err != nil:
		return nil, err
	}
	// A change of care tags (sensitive personal information) is audited.
	if c.careTags != nil && !slices.Equal(old.CareTags, h.CareTags) {
		if err := audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: h.CommunityID, Action: ActionCareTagsSet,
			Subject: fmt.Sprintf("Household:%d", h.ID), SubjectID: &h.ID,
			Detail: fmt.Sprintf("%v → %v", old.CareTags, h.CareTags)}); err != nil {
			return nil, err
		}
	}
	return h, tx.Commit()
}

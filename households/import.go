package households

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"linli/apperr"
	"linli/audit"
	"linli/auth"
	"linli/authz"
	"linli/ent"
	"linli/ent/household"
	"linli/ent/person"
	"linli/ent/team"
	"linli/ent/teammembership"
	"linli/ent/volunteerprofile"
	"linli/events"
	"linli/store"
	"linli/viewer"
)

// Import kinds.
const (
	ImportHouseholds = "HOUSEHOLDS"
	ImportPeople     = "PEOPLE"
)

// Row error codes.
const (
	CodeMissingColumn  = "MISSING_COLUMN"
	CodeRequired       = "REQUIRED"
	CodeTooLong        = "TOO_LONG"
	CodeInvalidNumber  = "INVALID_NUMBER"
	CodeInvalidPhone   = "INVALID_PHONE"
	CodeInvalidDate    = "INVALID_DATE"
	CodeUnknownCareTag = "UNKNOWN_CARE_TAG"
	CodeUnknownTeam    = "UNKNOWN_TEAM"
	CodeUnknownKind    = "UNKNOWN_KIND"
	CodeDuplicate      = "DUPLICATE"
)

// RowError is one problem with one cell or row of a spreadsheet.
type RowError struct {
	Row                   int
	Column, Code, Message string
}

// Report is what an import found and did.
type Report struct {
	Kind                   string
	DryRun, Committed      bool
	Rows, Created, Updated int
	Errors                 []RowError
}

// Upload is an uploaded file.
type Upload struct {
	Filename string
	File     io.Reader
}

// Import reads a spreadsheet of households or people (staff of the
// viewer's community). A dry run checks every row and writes nothing; a
// commit writes every row in one transaction, or nothing when any row has
// an error (the report lists them either way).
func (s *Service) Import(ctx context.Context, kind string, up Upload, dryRun bool) (*Report, error) {
	v, err := authz.Require(ctx, (*viewer.Viewer).IsStaff, "only coordinators may import")
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(up.File)
	if err != nil {
		return nil, apperr.Invalid("file", "the file could not be read")
	}
	t, err := readTable(up.Filename, data)
	if err != nil {
		return nil, err
	}
	rep := &Report{Kind: kind, DryRun: dryRun, Rows: len(t.rows), Errors: []RowError{}}
	var commit func(tx *ent.Tx) ([]events.Event, error)
	switch kind {
	case ImportHouseholds:
		commit, err = s.planHouseholds(ctx, v, t, rep)
	case ImportPeople:
		commit, err = s.planPeople(ctx, v, t, rep)
	default:
		return nil, apperr.Invalid("kind", "unknown import kind")
	}
	if err != nil || dryRun || len(rep.Errors) > 0 {
		return rep, err
	}
	var evs []events.Event
	err = store.Tx(ctx, s.Client, func(tx *ent.Tx) error {
		var err error
		if evs, err = commit(tx); err != nil {
			return err
		}
		action := ActionImportPeople
		if kind == ImportHouseholds {
			action = ActionImportHouseholds
		}
		return audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: v.CommunityID, Action: action, Subject: up.Filename,
			Detail: fmt.Sprintf("%d rows: %d created, %d updated", rep.Rows, rep.Created, rep.Updated)})
	})
	if ent.IsConstraintError(err) {
		return nil, &apperr.Error{Code: apperr.Conflict, Message: "the data changed while importing; run the import again", Err: err}
	}
	if err != nil {
		return nil, err
	}
	rep.Committed = true
	if s.Events != nil {
		s.Events.Publish(evs...)
	}
	return rep, nil
}

// rowErrors collects a row's errors under the headers as written.
type rowErrors struct {
	rep     *Report
	written map[string]string
	row     int
	bad     bool
}

func (e *rowErrors) add(key, code, format string, a ...any) {
	e.bad = true
	e.rep.Errors = append(e.rep.Errors, RowError{Row: e.row, Column: e.written[key], Code: code, Message: fmt.Sprintf(format, a...)})
}

// textCell reads a text cell of at most maxLen characters.
func (e *rowErrors) textCell(key, s string, required bool, maxLen int) string {
	s = normalizeSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case n == 0 && required:
		e.add(key, CodeRequired, "%s is required", e.written[key])
	case n > maxLen:
		e.add(key, CodeTooLong, "%s must be at most %d characters", e.written[key], maxLen)
	}
	return s
}

func (e *rowErrors) phoneCell(key, s string, required bool) string {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			e.add(key, CodeRequired, "%s is required", e.written[key])
		}
		return ""
	}
	p, err := auth.NormalizePhone(s)
	if err != nil {
		e.add(key, CodeInvalidPhone, "%s must be 6 to 15 digits", e.written[key])
	}
	return p
}

func missingColumns(t *table, rep *Report, missing []string) bool {
	for _, m := range missing {
		rep.Errors = append(rep.Errors, RowError{Row: t.headerRow, Column: m, Code: CodeMissingColumn, Message: "the sheet has no column " + m})
	}
	return len(missing) > 0
}

var householdColumns = []column{
	{key: "address", required: true, headers: []string{"地址", "住址", "家庭住址", "门牌", "门牌号", "address"}},
	{key: "head", required: true, headers: []string{"户主", "户主姓名", "姓名", "head", "headName"}},
	{key: "phone", headers: []string{"电话", "联系电话", "手机", "手机号", "phone"}},
	{key: "size", headers: []string{"人数", "家庭人数", "户人数", "人口", "size"}},
	{key: "tags", headers: []string{"关爱标签", "关爱类型", "关爱对象", "标签", "careTags", "tags"}},
}

// careTagLabels are the words community sheets use for each care tag.
var careTagLabels = map[string]string{
	"空巢": "EMPTY_NEST", "空巢老人": "EMPTY_NEST", "独居老人": "EMPTY_NEST",
	"失独": "LOST_ONLY_CHILD", "失独家庭": "LOST_ONLY_CHILD",
	"残疾": "DISABILITY", "残疾人": "DISABILITY", "残障": "DISABILITY", "残障人士": "DISABILITY",
	"留守儿童": "LEFT_BEHIND_CHILD", "留守": "LEFT_BEHIND_CHILD",
	"低保": "LOW_INCOME", "低保户": "LOW_INCOME", "低收入": "LOW_INCOME", "低收入家庭": "LOW_INCOME",
	"失业": "UNEMPLOYED", "失业人员": "UNEMPLOYED", "待业": "UNEMPLOYED",
}

// CareTagOf reads a care tag as a sheet writes it: its Chinese label or
// its API name.
func CareTagOf(s string) (string, bool) {
	if t, ok := careTagLabels[s]; ok {
		return t, true
	}
	u := strings.ToUpper(s)
	return u, slices.Contains(CareTags, u)
}

type householdRow struct {
	address, head, phone string
	size                 int
	tags                 []string
}

func (s *Service) planHouseholds(ctx context.Context, v *viewer.Viewer, t *table, rep *Report) (func(*ent.Tx) ([]events.Event, error), error) {
	idx, written, missing := t.columns(householdColumns)
	if missingColumns(t, rep, missing) {
		return nil, nil
	}
	existing := map[string]int{}
	hs, err := s.Client.Household.Query().Where(household.CommunityID(v.CommunityID)).
		Select(household.FieldID, household.FieldAddress).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		existing[h.Address] = h.ID
	}
	seen := map[string]int{}
	var rows []householdRow
	for _, r := range t.rows {
		e := &rowErrors{rep: rep, written: written, row: r.number}
		h := householdRow{size: 1}
		h.address = e.textCell("address", r.cell(idx["address"]), true, 300)
		h.head = e.textCell("head", r.cell(idx["head"]), true, 100)
		h.phone = e.phoneCell("phone", r.cell(idx["phone"]), false)
		if c := r.cell(idx["size"]); c != "" {
			n, ok := parseCount(c)
			if !ok || n < 1 || n > 50 {
				e.add("size", CodeInvalidNumber, "%s must be a whole number from 1 to 50", written["size"])
			}
			h.size = n
		}
		for _, label := range splitList(r.cell(idx["tags"])) {
			tag, ok := CareTagOf(label)
			if !ok {
				e.add("tags", CodeUnknownCareTag, "unknown care tag %q", label)
				continue
			}
			h.tags = append(h.tags, tag)
		}
		h.tags, _ = normalizeTags(h.tags)
		if h.address != "" {
			if first, dup := seen[h.address]; dup {
				e.add("address", CodeDuplicate, "the same address as row %d", first)
			} else {
				seen[h.address] = r.number
			}
		}
		if e.bad {
			continue
		}
		if _, ok := existing[h.address]; ok {
			rep.Updated++
		} else {
			rep.Created++
		}
		rows = append(rows, h)
	}
	return func(tx *ent.Tx) ([]events.Event, error) {
		var creates []*ent.HouseholdCreate
		for _, h := range rows {
			if id, ok := existing[h.address]; ok {
				u := tx.Household.UpdateOneID(id).SetHeadName(h.head).SetSize(h.size).SetCareTags(orEmpty(h.tags))
				if h.phone != "" {
					u.SetPhone(h.phone)
				}
				if err := u.Exec(ctx); err != nil {
					return nil, err
				}
				continue
			}
			creates = append(creates, tx.Household.Create().SetCommunityID(v.CommunityID).SetAddress(h.address).
				SetHeadName(h.head).SetPhone(h.phone).SetSize(h.size).SetCareTags(orEmpty(h.tags)))
		}
		for chunk := range slices.Chunk(creates, 200) {
			if err := tx.Household.CreateBulk(chunk...).Exec(ctx); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}, nil
}

var peopleColumns = []column{
	{key: "name", required: true, headers: []string{"姓名", "名字", "name"}},
	{key: "phone", required: true, headers: []string{"电话", "联系电话", "手机", "手机号", "phone"}},
	{key: "kind", headers: []string{"类型", "身份", "kind", "type"}},
	{key: "team", headers: []string{"队伍", "所属队伍", "服务队", "志愿服务队", "team"}},
	{key: "skills", headers: []string{"技能", "特长", "技能特长", "skills"}},
	{key: "registered", headers: []string{"注册日期", "注册时间", "登记日期", "registeredAt", "registered"}},
}

type personRow struct {
	name, phone string
	volunteer   bool
	teams       []int
	skills      []string
	registered  *time.Time
}

// planPeople reads residents and volunteers. A row is a volunteer when its
// 类型 says 志愿者 or it names a team, skills or a registration date.
// Teams must exist (a misspelt team is an error, not a new team). A phone
// already in the community updates that person: roles, profile and teams
// are added to, and their name is kept.
func (s *Service) planPeople(ctx context.Context, v *viewer.Viewer, t *table, rep *Report) (func(*ent.Tx) ([]events.Event, error), error) {
	idx, written, missing := t.columns(peopleColumns)
	if missingColumns(t, rep, missing) {
		return nil, nil
	}
	teams := map[string]int{}
	ts, err := s.Client.Team.Query().Where(team.CommunityID(v.CommunityID)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, tm := range ts {
		teams[normalizeSpace(tm.Name)] = tm.ID
	}
	existing := map[string]*ent.Person{}
	ps, err := s.Client.Person.Query().Where(person.CommunityID(v.CommunityID)).WithVolunteerProfile().WithMemberships().All(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		existing[p.Phone] = p
	}
	seen := map[string]int{}
	var rows []personRow
	for _, r := range t.rows {
		e := &rowErrors{rep: rep, written: written, row: r.number}
		p := personRow{}
		p.name = e.textCell("name", r.cell(idx["name"]), true, auth.MaxDisplayNameRunes)
		p.phone = e.phoneCell("phone", r.cell(idx["phone"]), true)
		switch k := strings.ToUpper(r.cell(idx["kind"])); k {
		case "", "居民", "RESIDENT":
		case "志愿者", "VOLUNTEER":
			p.volunteer = true
		default:
			e.add("kind", CodeUnknownKind, "%s must be 居民 or 志愿者", written["kind"])
		}
		for _, name := range splitList(r.cell(idx["team"])) {
			id, ok := teams[name]
			if !ok {
				e.add("team", CodeUnknownTeam, "no team %q in the community: create it first", name)
				continue
			}
			if !slices.Contains(p.teams, id) {
				p.teams = append(p.teams, id)
			}
		}
		for _, sk := range splitList(r.cell(idx["skills"])) {
			if utf8.RuneCountInString(sk) > 50 {
				e.add("skills", CodeTooLong, "each skill must be at most 50 characters")
				break
			}
			if !slices.Contains(p.skills, sk) {
				p.skills = append(p.skills, sk)
			}
		}
		if c := r.cell(idx["registered"]); c != "" {
			d, ok := parseDate(c, t.serialDates)
			if !ok || d.After(time.Now()) {
				e.add("registered", CodeInvalidDate, "%s must be a past date such as 2023-05-01", written["registered"])
			}
			p.registered = &d
		}
		p.volunteer = p.volunteer || len(p.teams) > 0 || len(p.skills) > 0 || p.registered != nil
		if p.phone != "" {
			if first, dup := seen[p.phone]; dup {
				e.add("phone", CodeDuplicate, "the same phone as row %d", first)
			} else {
				seen[p.phone] = r.number
			}
		}
		if e.bad {
			continue
		}
		if _, ok := existing[p.phone]; ok {
			rep.Updated++
		} else {
			rep.Created++
		}
		rows = append(rows, p)
	}
	return func(tx *ent.Tx) ([]events.Event, error) {
		// People whose roles change: every replica forgets their cached
		// tokens once the import commits.
		var changed []events.Event
		for _, r := range rows {
			p, ok := existing[r.phone]
			if !ok {
				roles := []string{string(viewer.Resident)}
				if r.volunteer {
					roles = append(roles, string(viewer.Volunteer))
				}
				// No password: like a walk-in, the person appears in
				// lists and earns hours without signing in.
				created, err := tx.Person.Create().SetCommunityID(v.CommunityID).SetDisplayName(r.name).
					SetPhone(r.phone).SetPasswordHash("").SetRoles(roles).Save(ctx)
				if err != nil {
					return nil, err
				}
				p = created
			} else if r.volunteer && !slices.Contains(p.Roles, string(viewer.Volunteer)) {
				if err := tx.Person.UpdateOneID(p.ID).SetRoles(append(slices.Clone(p.Roles), string(viewer.Volunteer))).Exec(ctx); err != nil {
					return nil, err
				}
				changed = append(changed, events.Event{Kind: events.Person, PersonID: p.ID, CommunityID: p.CommunityID})
			}
			if !r.volunteer {
				continue
			}
			if err := upsertProfile(ctx, tx, v.CommunityID, p, r); err != nil {
				return nil, err
			}
			for _, tid := range r.teams {
				if slices.ContainsFunc(p.Edges.Memberships, func(m *ent.TeamMembership) bool { return m.TeamID == tid }) {
					continue
				}
				if err := tx.TeamMembership.Create().SetCommunityID(v.CommunityID).SetTeamID(tid).SetPersonID(p.ID).
					SetRole(teammembership.RoleMEMBER).Exec(ctx); err != nil {
					return nil, err
				}
			}
		}
		return changed, nil
	}, nil
}

// upsertProfile gives p a volunteer profile with r's skills and
// registration date, or adds them to the profile p has.
func upsertProfile(ctx context.Context, tx *ent.Tx, cid int, p *ent.Person, r personRow) error {
	if vp := p.Edges.VolunteerProfile; vp != nil {
		u := tx.VolunteerProfile.Update().Where(volunteerprofile.ID(vp.ID))
		skills := slices.Clone(vp.Skills)
		for _, sk := range r.skills {
			if !slices.Contains(skills, sk) {
				skills = append(skills, sk)
			}
		}
		u.SetSkills(skills)
		if r.registered != nil {
			u.SetRegisteredAt(*r.registered)
		}
		return u.Exec(ctx)
	}
	c := tx.VolunteerProfile.Create().SetCommunityID(cid).SetPersonID(p.ID).SetSkills(orEmpty(r.skills))
	if r.registered != nil {
		c.SetRegisteredAt(*r.registered)
	}
	return c.Exec(ctx)
}

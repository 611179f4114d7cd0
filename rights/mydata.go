package rights

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"linli/apperr"
	"linli/audit"
	"linli/authz"
	"linli/cst"
	"linli/ent"
	"linli/ent/auditentry"
	"linli/ent/certificate"
	"linli/ent/consent"
	"linli/ent/homevisit"
	"linli/ent/person"
	"linli/ent/registration"
	"linli/ent/request"
	"linli/ent/requestevent"
	"linli/ent/servicerecord"
	"linli/ent/session"
	"linli/ent/teammembership"
	"linli/gid"
	"linli/viewer"
)

// ActionExportMyData is the audit action of a data download.
const ActionExportMyData = "export.my_data"

// MaxSectionRows bounds each section of a download: a volunteer of many
// years has a few thousand rows; past the bound the section says it was
// cut (truncated) rather than the download growing without end.
const MaxSectionRows = 20_000

// Table is a section of a person's data: named columns and rows. It is
// encoded as a JSON array of objects, and as one sheet of the XLSX.
type Table struct {
	Columns   []string
	Rows      [][]any
	Truncated bool
}

// MarshalJSON encodes t as {"rows": [{column: value, …}], "truncated"}.
func (t *Table) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"rows":[`)
	for i, r := range t.Rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for j, c := range t.Columns {
			if j > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(c)
			var val any
			if j < len(r) {
				val = r[j]
			}
			v, err := json.Marshal(val)
			if err != nil {
				return nil, err
			}
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
	}
	fmt.Fprintf(&b, `],"truncated":%t}`, t.Truncated)
	return b.Bytes(), nil
}

func (t *Table) add(row ...any) {
	if len(t.Rows) >= MaxSectionRows {
		t.Truncated = true
		return
	}
	t.Rows = append(t.Rows, row)
}

// Section is one named part of a download, in order.
type Section struct {
	Name  string
	Value any
}

// MyData is everything linli holds about a person.
type MyData struct {
	GeneratedAt time.Time
	Sections    []Section
}

// MarshalJSON encodes the sections as one object, in order.
func (d *MyData) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"generatedAt":%q`, d.GeneratedAt.Format(time.RFC3339))
	for _, s := range d.Sections {
		k, _ := json.Marshal(s.Name)
		v, err := json.Marshal(s.Value)
		if err != nil {
			return nil, fmt.Errorf("rights: section %s: %w", s.Name, err)
		}
		b.WriteByte(',')
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Export gathers the viewer's data, after the rate limit (ExportLimits,
// RATE_LIMITED) and an audit entry (export.my_data). IDs are the API's
// (ids), times RFC 3339 in China Standard Time.
func (s *Service) Export(ctx context.Context, ids *gid.Codec, format string) (*MyData, error) {
	v := viewer.FromContext(ctx)
	if err := authz.OwnData(v); err != nil {
		return nil, coded(err)
	}
	if err := s.ExportLimits.Allow("mydata", strconv.Itoa(v.PersonID), ""); err != nil {
		return nil, apperr.New(apperr.RateLimited, "too many downloads of your data; try again later")
	}
	if err := audit.Record(ctx, s.Client, audit.Entry{CommunityID: v.CommunityID, Action: ActionExportMyData,
		Subject: fmt.Sprintf("Person:%d", v.PersonID), SubjectID: &v.PersonID, Detail: format}); err != nil {
		return nil, err
	}
	return s.collect(ctx, ids, v.PersonID)
}

func (s *Service) collect(ctx context.Context, ids *gid.Codec, pid int) (*MyData, error) {
	sys := viewer.System(ctx)
	c := s.Client
	id := func(n int) string { return ids.Encode(n) }
	idp := func(n *int) any {
		if n == nil {
			return nil
		}
		return ids.Encode(*n)
	}
	d := &MyData{GeneratedAt: s.now().In(cst.Zone)}
	add := func(name string, v any) { d.Sections = append(d.Sections, Section{name, v}) }

	p, err := c.Person.Query().Where(person.ID(pid)).WithCommunity().WithVolunteerProfile().Only(sys)
	if err != nil {
		return nil, err
	}
	prof := &Table{Columns: []string{"id", "displayName", "phone", "birthYear", "community", "roles", "createdAt", "updatedAt"}}
	community := ""
	if p.Edges.Community != nil {
		community = p.Edges.Community.Name
	}
	prof.add(id(p.ID), p.DisplayName, p.Phone, p.BirthYear, community, p.Roles, t(p.CreatedAt), t(p.UpdatedAt))
	add("profile", prof)

	vp := &Table{Columns: []string{"skills", "registeredAt"}}
	if pr := p.Edges.VolunteerProfile; pr != nil {
		vp.add(pr.Skills, t(pr.RegisteredAt))
	}
	add("volunteerProfile", vp)

	teams := &Table{Columns: []string{"team", "role", "since"}}
	ms, err := c.TeamMembership.Query().Where(teammembership.PersonID(pid)).WithTeam().Limit(MaxSectionRows + 1).All(sys)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		name := ""
		if m.Edges.Team != nil {
			name = m.Edges.Team.Name
		}
		teams.add(name, m.Role, t(m.CreatedAt))
	}
	add("teamMemberships", teams)

	regs := &Table{Columns: []string{"id", "activity", "activityStartsAt", "slot", "status", "seats", "signedUpAt", "consentSensitiveAt", "checkedInAt", "checkedOutAt", "cancelledAt", "cancelReason"}}
	rs, err := c.Registration.Query().Where(registration.PersonID(pid)).WithSlot(func(q *ent.SlotQuery) { q.WithActivity() }).
		Order(ent.Asc(registration.FieldID)).Limit(MaxSectionRows + 1).All(sys)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		var act, slotName string
		var starts any
		if sl := r.Edges.Slot; sl != nil {
			slotName = sl.Name
			if a := sl.Edges.Activity; a != nil {
				act, starts = a.Title, t(a.StartsAt)
			}
		}
		regs.add(id(r.ID), act, starts, slotName, r.Status, r.Seats, t(r.CreatedAt), tp(r.ConsentSensitiveAt),
			tp(r.CheckedInAt), tp(r.CheckedOutAt), tp(r.CancelledAt), r.CancelReason)
	}
	add("registrations", regs)

	recs := &Table{Columns: []string{"id", "activity", "serviceDate", "place", "content", "startedAt", "endedAt", "minutes", "organizingTeam", "personInCharge", "flaggedForReview", "correctedAt", "correctionReason"}}
	srs, err := c.ServiceRecord.Query().Where(servicerecord.PersonID(pid)).Order(ent.Asc(servicerecord.FieldStartedAt)).Limit(MaxSectionRows + 1).All(sys)
	if err != nil {
		return nil, err
	}
	for _, r := range srs {
		recs.add(id(r.ID), r.ActivityName, r.ServiceDate, r.Place, r.ServiceContent, t(r.StartedAt), t(r.EndedAt), r.Minutes,
			r.OrganizingTeam, r.PersonInCharge, r.FlaggedForReview, tp(r.CorrectedAt), r.CorrectionReason)
	}
	add("serviceRecords", recs)

	certs := &Table{Columns: []string{"code", "minutes", "records", "starLevel", "issuedAt"}}
	cs, err := c.Certificate.Query().Where(certificate.PersonID(pid)).Limit(MaxSectionRows + 1).All(sys)
	if err != nil {
		return nil, err
	}
	for _, x := range cs {
		certs.add(x.Code, x.Minutes, x.RecordCount, x.StarLevel, t(x.IssuedAt))
	}
	add("certificates", certs)

	reqs := &Table{Columns: []string{"id", "number", "kind", "channel", "title", "description", "status", "createdAt", "acceptedAt", "resolvedAt", "closedAt", "outcome", "resolution", "satisfaction"}}
	hist := &Table{Columns: []string{"request", "at", "action", "status", "note"}}
	rqs, err := c.Request.Query().Where(request.SubmitterID(pid)).Order(ent.Asc(request.FieldID)).Limit(MaxSectionRows + 1).All(sys)
	if err != nil {
		return nil, err
	}
	var reqIDs []int
	numbers := map[int]string{}
	for _, r := range rqs {
		reqs.add(id(r.ID), r.Number, r.Kind, r.Channel, r.Title, r.Description, r.Status, t(r.CreatedAt), tp(r.AcceptedAt),
			tp(r.ResolvedAt), tp(r.ClosedAt), r.Outcome, r.Resolution, r.Satisfaction)
		reqIDs = append(reqIDs, r.ID)
		numbers[r.ID] = r.Number
	}
	if len(reqIDs) > 0 {
		evs, err := c.RequestEvent.Query().Where(requestevent.RequestIDIn(reqIDs...)).Order(ent.Asc(requestevent.FieldID)).Limit(MaxSectionRows + 1).All(sys)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			hist.add(numbers[e.RequestID], t(e.At), e.Action, e.Status, e.Note)
		}
	}
	add("requests", reqs)
	add("requestHistory", hist)

	// Visits they made: when, what, how long, with which team; the
	// household visited is another family's data and is left out.
	visits := &Table{Columns: []string{"id", "visitedAt", "kind", "minutes", "team"}}
	hvs, err := c.HomeVisit.Query().Where(homevisit.HasVolunteersWith(person.ID(pid))).WithTeam().Order(ent.Asc(homevisit.FieldVisitedAt)).Limit(MaxSectionRows + 1).All(sys)
	if err != nil {
		return nil, err
	}
	for _, h := range hvs {
		team := ""
		if h.Edges.Team != nil {
			team = h.Edges.Team.Name
		}
		visits.add(id(h.ID), t(h.VisitedAt), h.Kind, h.Minutes, team)
	}
	add("homeVisits", visits)

	cons := &Table{Columns: []string{"id", "purpose", "wordingVersion", "givenAt", "withdrawnAt", "byGuardian", "recordedByStaff"}}
	cns, err := c.Consent.Query().Where(consent.PersonID(pid)).Order(ent.Asc(consent.FieldID)).Limit(MaxSectionRows + 1).All(sys)
	if err != nil {
		return nil, err
	}
	for _, x := range cns {
		cons.add(id(x.ID), x.Purpose, x.WordingVersion, t(x.GivenAt), tp(x.WithdrawnAt), x.ByGuardian, x.RecordedByID != nil)
	}
	add("consents", cons)

	ses := &Table{Columns: []string{"signedInAt", "expiresAt", "revokedAt"}}
	sss, err := c.Session.Query().Where(session.PersonID(pid)).Order(ent.Asc(session.FieldID)).Limit(MaxSectionRows + 1).All(sys)
	if err != nil {
		return nil, err
	}
	for _, x := range sss {
		ses.add(t(x.CreatedAt), t(x.ExpiresAt), tp(x.RevokedAt))
	}
	add("sessions", ses)

	// Audit entries about them (what staff did to their account, their
	// downloads, consents); who acted is named by the API's ID only.
	aud := &Table{Columns: []string{"at", "action", "actor", "detail"}}
	aes, err := c.AuditEntry.Query().Where(auditentry.SubjectID(pid), auditentry.SubjectHasPrefix("Person:")).
		Order(ent.Asc(auditentry.FieldID)).Limit(MaxSectionRows + 1).All(sys)
	if err != nil {
		return nil, err
	}
	for _, a := range aes {
		aud.add(t(a.At), a.Action, idp(a.ActorID), a.Detail)
	}
	add("auditEntries", aud)

	// Sections of other packages (notifications, …), by name.
	for _, name := range sortedKeys(exporters) {
		v, err := exporter(name)(sys, c, pid)
		if err != nil {
			return nil, fmt.Errorf("rights: exporter %s: %w", name, err)
		}
		add(name, v)
	}
	return d, nil
}

func t(x time.Time) string { return x.In(cst.Zone).Format(time.RFC3339) }

func tp(x *time.Time) any {
	if x == nil {
		return nil
	}
	return t(*x)
}

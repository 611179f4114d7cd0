package exports_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"linli/ent/registration"
	"linli/ent/request"
	"linli/ent/slot"
	"linli/ent/teammembership"
	"linli/linlitest"
	"linli/viewer"
)

// prefixes are the first characters a spreadsheet reads as a formula.
var prefixes = []string{"=", "+", "-", "@", "\t", "\r"}

// hostile is a formula under prefix i (mod 6).
func hostile(i int) string {
	return prefixes[i%len(prefixes)] + fmt.Sprintf(`HYPERLINK("http://evil.example/%d","点我")`, i)
}

// TestEveryCSVEscapesFormulas: names, titles, descriptions, notes and
// addresses beginning with =, +, -, @, a tab or a carriage return reach
// every CSV export as text (a leading '), never as a live formula; no
// cell of any CSV export begins with one of them.
func TestEveryCSVEscapesFormulas(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e)
		ctx := e.Sys()
		n := 0
		next := func() string { n++; return hostile(n) }
		if err := s.team.Update().SetName(next()).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		leader, _ := e.Person(t, s.community.ID, next(), viewer.TeamLeader)
		if err := e.Client.TeamMembership.Create().SetCommunityID(s.community.ID).SetTeamID(s.team.ID).SetPersonID(leader.ID).
			SetRole(teammembership.RoleLEADER).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		venue, err := e.Client.Venue.Create().SetCommunityID(s.community.ID).SetName(next()).SetAddress(next()).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
		a, slots := e.Activity(t, s.community.ID, linlitest.ActivitySpec{Title: next(), StartsAt: start,
			Slots: []linlitest.SlotSpec{{Name: next(), Capacity: 10}, {Name: next(), Kind: slot.KindVOLUNTEER, Capacity: 10}}})
		if a, err = a.Update().SetVenueID(venue.ID).SetTeamID(s.team.ID).SetDescription(next()).Save(ctx); err != nil {
			t.Fatal(err)
		}
		// One volunteer and one attendee under each prefix.
		var people []int
		for i := range prefixes {
			r, p := s.register(t, slots[1], hostile(100+i), registration.StatusCONFIRMED)
			s.manual(t, a, r, "IN", start)
			s.manual(t, a, r, "OUT", start.Add(time.Hour))
			_, q := s.register(t, slots[0], hostile(200+i), registration.StatusCONFIRMED)
			people = append(people, p.ID, q.ID)
		}
		h, err := e.Client.Household.Create().SetCommunityID(s.community.ID).SetAddress(next()).SetSize(2).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range prefixes {
			if _, err := e.Client.Request.Create().SetCommunityID(s.community.ID).SetNumber(fmt.Sprintf("QJ-2026-%04d", i+1)).
				SetYear(2026).SetSeq(i + 1).SetKind(request.KindREPAIR).SetChannel(request.ChannelPHONE).SetStatus(request.StatusRESOLVED).
				SetTitle(hostile(300 + i)).SetDescription(hostile(400 + i)).SetResolution(hostile(500 + i)).SetOutcome(request.OutcomeSOLVED).
				SetCreatedAt(start).SetResolvedAt(start.Add(time.Hour)).SetHouseholdID(h.ID).SetSubmitterID(people[i]).
				SetTeamID(s.team.ID).SetAssigneeID(people[i+1]).Save(ctx); err != nil {
				t.Fatal(err)
			}
		}

		period := "&from=" + url.QueryEscape(start.Add(-time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
		exports := map[string]string{
			"sign-in sheet":   "/exports/activities/" + e.ID(a.ID) + "/sign-in-sheet?format=csv",
			"service records": "/exports/service-records?format=csv" + period,
			"requests":        "/exports/requests?format=csv" + period,
			"statistics":      "/exports/statistics?format=csv" + period,
		}
		// What each export must show, escaped: the texts residents and
		// staff typed that it carries.
		want := map[string][]string{
			// team 1, leader 2, venue 3 and its address 4, title 5, the
			// slots 6 and 7, the description 8, the household's address 9.
			"sign-in sheet":   {hostile(100), hostile(105), hostile(200), hostile(205), hostile(6), hostile(7)},
			"service records": {hostile(100), hostile(105), hostile(5), hostile(3), hostile(7), hostile(1), hostile(2)},
			"requests":        {hostile(300), hostile(305), hostile(500), hostile(505), hostile(100), hostile(200), hostile(9), hostile(1)},
			"statistics":      {hostile(1)},
		}
		for name, path := range exports {
			st, _, body := get(t, e, s.staff, path)
			if st != 200 {
				t.Fatalf("%s: %d %s", name, st, body)
			}
			cells := map[string]bool{}
			for _, row := range table(t, "csv", body) {
				for _, c := range row {
					if c != "" && strings.ContainsAny(c[:1], "=+-@\t\r") {
						t.Errorf("%s: cell %q is a live formula", name, c)
					}
					cells[c] = true
				}
			}
			for _, w := range want[name] {
				found := false
				for c := range cells {
					// The place joins the venue's name and address.
					found = found || c == "'"+w || strings.HasPrefix(c, "'"+w)
				}
				if !found {
					t.Errorf("%s: no escaped cell %q", name, w)
				}
			}
		}
	})
}

// TestExportLinks: the staff downloads page's list names every export in
// both formats and the period's sign-in sheets, and each link downloads
// (200) with the staff member's token; residents get FORBIDDEN.
func TestExportLinks(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		s := newSite(t, e)
		start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		e.Activity(t, s.community.ID, linlitest.ActivitySpec{Title: "义诊", StartsAt: start})
		var out struct {
			ExportLinks []struct{ Name, Label, Format, URL string }
		}
		q := `query($c: ID!, $f: Time, $t: Time) { exportLinks(communityID: $c, from: $f, to: $t) { name label format url } }`
		e.Do(t, s.staff, q, map[string]any{"c": e.ID(s.community.ID), "f": start.Add(-24 * time.Hour), "t": start.Add(24 * time.Hour)}).Decode(t, &out)
		names := map[string]int{}
		for _, l := range out.ExportLinks {
			names[l.Name]++
			if l.Label == "" || (l.Format != "csv" && l.Format != "xlsx") {
				t.Fatalf("link %+v", l)
			}
			if st, _, body := get(t, e, s.staff, l.URL); st != 200 {
				t.Fatalf("%s: %d %s", l.URL, st, body)
			}
		}
		if names["service-records"] != 2 || names["requests"] != 2 || names["statistics"] != 2 || names["sign-in-sheet"] != 2 {
			t.Fatalf("links %v", names)
		}
		// The defaults (this year so far) answer too.
		e.Do(t, s.staff, q, map[string]any{"c": e.ID(s.community.ID)}).Decode(t, &out)
		_, resident := e.Person(t, s.community.ID, "居民")
		e.Do(t, resident, q, map[string]any{"c": e.ID(s.community.ID)}).WantCode(t, "FORBIDDEN")
	})
}

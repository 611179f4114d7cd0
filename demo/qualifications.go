package demo

import (
	"context"
	"fmt"
	"time"

	"linli/cst"
	"linli/ent"
	"linli/ent/team"
	"linli/ent/teammembership"
	"linli/qualify"
)

// writeQualifications gives every demo community the usual qualification
// kinds, and the members of 前进社区's health and legal teams their
// licences: most valid for a year, a few expiring within the month, so a
// coordinator sees the expiring list on first start.
func writeQualifications(ctx context.Context, client *ent.Client, now time.Time) error {
	communities, err := client.Community.Query().All(ctx)
	if err != nil {
		return err
	}
	for _, c := range communities {
		kinds := map[string]int{}
		for _, name := range qualify.DemoKinds {
			k, err := client.QualificationKind.Create().SetCommunityID(c.ID).SetName(name).Save(ctx)
			if err != nil {
				return err
			}
			kinds[name] = k.ID
		}
		for teamName, kind := range map[string]string{teamHealth: "执业医师", teamLegal: "律师"} {
			ms, err := client.TeamMembership.Query().Where(teammembership.CommunityID(c.ID),
				teammembership.HasTeamWith(team.Name(teamName))).Order(ent.Asc(teammembership.FieldPersonID)).All(ctx)
			if err != nil {
				return err
			}
			var creates []*ent.QualificationCreate
			for i, m := range ms {
				days := 365
				if i%4 == 3 {
					days = 10 + i
				}
				day := now.In(cst.Zone).AddDate(0, 0, days)
				creates = append(creates, client.Qualification.Create().SetCommunityID(c.ID).SetPersonID(m.PersonID).
					SetKindID(kinds[kind]).SetExpiresOn(day.Format("2006-01-02")).SetValidUntil(qualify.ValidUntil(day)).
					SetEvidenceRef(fmt.Sprintf("DEMO-%d-%04d", c.ID, i+1)))
			}
			if len(creates) > 0 {
				if err := client.Qualification.CreateBulk(creates...).Exec(ctx); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

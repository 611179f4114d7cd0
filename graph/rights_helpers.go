package graph

import (
	"encoding/json"

	"linli/ent"
	"linli/graph/model"
	"linli/rights"
)

func myProfile(p *rights.Profile) *model.MyProfile {
	return &model.MyProfile{ID: p.ID, DisplayName: p.DisplayName, Phone: p.Phone, BirthYear: p.BirthYear, Minor: p.Minor}
}

func personConsent(c *ent.Consent, name string) *model.PersonConsent {
	return &model.PersonConsent{ID: c.ID, PersonID: c.PersonID, PersonName: name, Purpose: model.ConsentPurpose(c.Purpose),
		WordingVersion: c.WordingVersion, GivenAt: c.GivenAt, WithdrawnAt: c.WithdrawnAt, ByGuardian: c.ByGuardian,
		RecordedByID: c.RecordedByID, HouseholdID: c.HouseholdID}
}

func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// Package certificate issues and verifies service certificates: a
// snapshot of a volunteer's hours and star level (from package hours)
// under a random code anyone can verify, which shows the person's name
// masked (mask.Name): the code proves the hours, not who someone is.
package certificate

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"linli/ent/notification"
	"linli/notify"
	"linli/store"
	"strings"
	"time"

	"linli/apperr"
	"linli/ent"
	entcert "linli/ent/certificate"
	"linli/ent/person"
	"linli/hours"
	"linli/mask"
	"linli/viewer"
)

// Issue issues a service certificate: a snapshot of a volunteer's
// hours and star level under a code anyone can verify. The viewer issues
// their own (personID nil); staff issue anyone's in their community.
func (s *Service) Issue(ctx context.Context, personID *int) (*ent.Certificate, error) {
	vs, err := s.hours.VolunteerService(ctx, personID)
	if err != nil {
		return nil, err
	}
	if vs.Records == 0 {
		return nil, apperr.New(apperr.NotEligible, "there are no service records to certify yet")
	}
	code, err := newCertificateCode()
	if err != nil {
		return nil, err
	}
	var cert *ent.Certificate
	err = store.Tx(viewer.System(ctx), s.client, func(tx *ent.Tx) error {
		var err error
		cert, err = s.issue(ctx, tx, vs, code)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.client.Certificate.Get(ctx, cert.ID)
}

// issue writes the certificate and its notification in tx.
func (s *Service) issue(ctx context.Context, tx *ent.Tx, vs *hours.VolunteerService, code string) (*ent.Certificate, error) {
	c := tx.Certificate.Create().SetCode(code).SetCommunityID(vs.Person.CommunityID).
		SetPersonID(vs.Person.ID).SetPersonName(vs.Person.DisplayName).SetMinutes(vs.TotalMinutes).
		SetRecordCount(vs.Records).SetStarLevel(vs.StarLevel).SetIssuedAt(s.now())
	if v := viewer.FromContext(ctx); v.PersonID != 0 {
		c.SetIssuedByID(v.PersonID)
	}
	// As linli itself: the viewer was authorized by VolunteerService.
	cert, err := c.Save(viewer.System(ctx))
	if err != nil {
		return nil, err
	}
	return cert, notify.Emit(ctx, tx, notify.Event{Kind: notification.KindCERTIFICATE_ISSUED, CommunityID: cert.CommunityID,
		PersonIDs: []int{cert.PersonID}, Note: cert.Code})
}

// Service issues and verifies certificates.
type Service struct {
	client *ent.Client
	hours  *hours.Service
	now    func() time.Time
}

// New returns a Service over client that reads volunteers' hours from h.
func New(client *ent.Client, h *hours.Service) *Service {
	return &Service{client: client, hours: h, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// Verification is a certificate as anyone may see it.
type Verification struct {
	Code, PersonName, CommunityName string
	Minutes, Records, StarLevel     int
	IssuedAt                        time.Time
	// HolderDeleted: the holder deleted their account (package rights);
	// the certificate names nobody any more (PersonName is empty).
	HolderDeleted bool
}

// Verify looks a certificate up by its code, for anyone; nil
// when no certificate has it. The name is masked: the code proves the
// hours, not who someone is.
func (s *Service) Verify(ctx context.Context, code string) (*Verification, error) {
	code = normalizeCode(code)
	if code == "" || len(code) > 40 {
		return nil, nil
	}
	sys := viewer.System(ctx)
	c, err := s.client.Certificate.Query().Where(entcert.Code(code)).WithCommunity().
		WithPerson(func(q *ent.PersonQuery) { q.Select(person.FieldDeletedAt) }).Only(sys)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v := &Verification{
		Code: c.Code, PersonName: mask.Name(c.PersonName), Minutes: c.Minutes,
		Records: c.RecordCount, StarLevel: c.StarLevel, IssuedAt: c.IssuedAt,
	}
	if p := c.Edges.Person; p != nil && p.DeletedAt != nil {
		v.PersonName, v.HolderDeleted = "", true
	}
	if c.Edges.Community != nil {
		v.CommunityName = c.Edges.Community.Name
	}
	return v, nil
}

// newCertificateCode is 100 random bits as 20 characters of A–Z and 2–7,
// shown in groups of four (ABCD-EFGH-…); dashes and case do not matter
// when verifying.
func newCertificateCode() (string, error) {
	b := make([]byte, 13)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	raw := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)[:20]
	var sb strings.Builder
	for i := 0; i < len(raw); i += 4 {
		if i > 0 {
			sb.WriteByte('-')
		}
		sb.WriteString(raw[i : i+4])
	}
	return sb.String(), nil
}

func normalizeCode(code string) string {
	code = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code)))
	if len(code) != 20 {
		return code
	}
	var sb strings.Builder
	for i := 0; i < 20; i += 4 {
		if i > 0 {
			sb.WriteByte('-')
		}
		sb.WriteString(code[i : i+4])
	}
	return sb.String()
}

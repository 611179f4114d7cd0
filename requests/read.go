package requests

import (
	"context"

	"entgo.io/contrib/entgql"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/ent/predicate"
	"linli/ent/request"
	"linli/ent/requestevent"
	"linli/viewer"
)

// Page is a forward page of a connection.
type Page struct {
	After *entgql.Cursor[int]
	First *int
}

// newestFirst is the order of a list that names none.
var newestFirst = &ent.RequestOrder{Direction: entgql.OrderDirectionDesc, Field: ent.RequestOrderFieldCreatedAt}

// List is the requests the viewer may read (authz.Requests decides),
// filtered and ordered, newest first unless told otherwise; ordered by due
// time, only those that have one.
func (s *Service) List(ctx context.Context, p Page, where *ent.RequestWhereInput, order *ent.RequestOrder) (*ent.RequestConnection, error) {
	if viewer.FromContext(ctx) == nil {
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	}
	if order == nil {
		order = newestFirst
	}
	q := s.client.Request.Query()
	if order.Field != nil && order.Field.String() == ent.RequestOrderFieldDueAt.String() {
		// Page cursors cannot step over a missing value: ordered by due
		// time, the list holds the requests that have one (accepted).
		q = q.Where(request.DueAtNotNil())
	}
	return q.Paginate(ctx, p.After, p.First, nil, nil,
		ent.WithRequestOrder(order), ent.WithRequestFilter(where.Filter))
}

// Mine is the requests submitted by or for the viewer, newest first.
func (s *Service) Mine(ctx context.Context, p Page) (*ent.RequestConnection, error) {
	v, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	return s.client.Request.Query().Where(request.SubmitterID(v.PersonID)).
		Paginate(ctx, p.After, p.First, nil, nil, ent.WithRequestOrder(newestFirst))
}

// History is r's transitions, oldest first, each with r as its request.
func (s *Service) History(ctx context.Context, r *ent.Request) ([]*ent.RequestEvent, error) {
	evs, err := s.client.RequestEvent.Query().Where(requestevent.RequestID(r.ID)).
		Order(ent.Asc(requestevent.FieldAt), ent.Asc(requestevent.FieldID)).All(ctx)
	for _, ev := range evs {
		ev.Edges.Request = r
	}
	return evs, err
}

// Roles is how the viewer of ctx stands to r.
func Roles(ctx context.Context, r *ent.Request) authz.RequestRole {
	return authz.RequestRoles(viewer.FromContext(ctx), r.CommunityID, r.SubmitterID, r.TeamID, r.AssigneeID)
}

// Description is r's description for the viewer of ctx: in full for those
// authz.SeesRequestDescription admits, withheld (empty) for the others.
func Description(ctx context.Context, r *ent.Request) (text string, withheld bool) {
	if authz.SeesRequestDescription(Roles(ctx, r)) {
		return r.Description, false
	}
	return "", true
}

// Resolution is r's resolution for the viewer of ctx: withheld (nil) with
// its description, as the RESOLVE event's note that repeats it is.
func Resolution(ctx context.Context, r *ent.Request) *string {
	if authz.SeesRequestDescription(Roles(ctx, r)) {
		return r.Resolution
	}
	return nil
}

// Note is a history entry's note for the viewer of ctx: withheld with the
// request's description (reasons and comments may hold the same details).
func Note(ctx context.Context, r *ent.Request, ev *ent.RequestEvent) string {
	if authz.SeesRequestDescription(Roles(ctx, r)) {
		return ev.Note
	}
	return ""
}

// TextP matches requests whose number or title contains text, and for
// viewers who search descriptions (authz.SearchesRequestDescriptions) also
// those whose description does.
func TextP(ctx context.Context, text string) predicate.Request {
	ps := []predicate.Request{request.NumberContainsFold(text), request.TitleContainsFold(text)}
	if authz.SearchesRequestDescriptions(viewer.FromContext(ctx)) {
		ps = append(ps, request.DescriptionContainsFold(text))
	}
	return request.Or(ps...)
}

package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"linli/auth"
	"linli/gid"
	"linli/store"
)

// bare serves the benchmark query with nothing in between: the SQL that
// linli runs for it (counted by the N+1 test: session with person,
// activities, teams, venues, slots; the first is auth.SessionByToken itself),
// written by hand over database/sql, and the same JSON shape.
type bare struct {
	db  *store.DB
	ids *gid.Codec // writes IDs as linli does
}

type bareSlot struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Capacity  int    `json:"capacity"`
	Taken     int    `json:"taken"`
	Available int    `json:"available"`
}

type bareNamed struct {
	Name string `json:"name"`
}

type bareActivity struct {
	ID    string     `json:"id"`
	Title string     `json:"title"`
	Slots []bareSlot `json:"slots"`
	Team  *bareNamed `json:"team"`
	Venue *bareNamed `json:"venue"`

	id              int64
	teamID, venueID sql.NullInt64
}

type bareEdge struct {
	Node *bareActivity `json:"node"`
}

func (b bare) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Variables struct {
			N int `json:"n"`
		} `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Variables.N < 1 || req.Variables.N > 100 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	community, staff, err := b.authenticate(r.Context(), token)
	if errors.Is(err, sql.ErrNoRows) {
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	edges, err := b.page(r.Context(), community, staff, req.Variables.N)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"activities": map[string]any{"edges": edges}}})
}

func (b bare) authenticate(ctx context.Context, token string) (community int64, staff bool, err error) {
	h := sha256.Sum256([]byte(token))
	var rolesJSON []byte
	err = b.db.SQL.QueryRowContext(ctx, b.db.Rebind(auth.SessionByToken), h[:], time.Now().UTC(), time.Now().UTC()).
		Scan(new(int64), new(time.Time), new(int64), &community, &rolesJSON, new(time.Time), new(sql.NullTime))
	if err != nil {
		return 0, false, err
	}
	var roles []string
	if err := json.Unmarshal(rolesJSON, &roles); err != nil {
		return 0, false, err
	}
	return community, slices.Contains(roles, "COORDINATOR") || slices.Contains(roles, "ADMIN"), nil
}

func (b bare) page(ctx context.Context, community int64, staff bool, n int) ([]bareEdge, error) {
	q := `SELECT "id", "title", "team_id", "venue_id" FROM "activities" WHERE "community_id" = ?`
	args := []any{community}
	if !staff {
		// linli's read rule for residents: only what was ever published.
		q += ` AND "published_at" IS NOT NULL`
	}
	rows, err := b.db.SQL.QueryContext(ctx, b.db.Rebind(q+` ORDER BY "id" LIMIT `+strconv.Itoa(n+1)), args...)
	if err != nil {
		return nil, err
	}
	var acts []*bareActivity
	for rows.Next() {
		a := &bareActivity{Slots: []bareSlot{}}
		if err := rows.Scan(&a.id, &a.Title, &a.teamID, &a.venueID); err != nil {
			rows.Close()
			return nil, err
		}
		a.ID = b.ids.Encode(int(a.id))
		acts = append(acts, a)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if len(acts) > n {
		acts = acts[:n]
	}
	byID := make(map[int64]*bareActivity, len(acts))
	var ids, teamIDs, venueIDs []any
	for _, a := range acts {
		byID[a.id] = a
		ids = append(ids, a.id)
		if a.teamID.Valid && !slices.Contains(teamIDs, any(a.teamID.Int64)) {
			teamIDs = append(teamIDs, a.teamID.Int64)
		}
		if a.venueID.Valid && !slices.Contains(venueIDs, any(a.venueID.Int64)) {
			venueIDs = append(venueIDs, a.venueID.Int64)
		}
	}
	teams, err := b.names(ctx, "teams", teamIDs, community)
	if err != nil {
		return nil, err
	}
	venues, err := b.names(ctx, "venues", venueIDs, community)
	if err != nil {
		return nil, err
	}
	if err := b.slots(ctx, ids, community, byID); err != nil {
		return nil, err
	}
	edges := make([]bareEdge, len(acts))
	for i, a := range acts {
		if a.teamID.Valid {
			a.Team = &bareNamed{Name: teams[a.teamID.Int64]}
		}
		if a.venueID.Valid {
			a.Venue = &bareNamed{Name: venues[a.venueID.Int64]}
		}
		edges[i] = bareEdge{Node: a}
	}
	return edges, nil
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func (b bare) names(ctx context.Context, table string, ids []any, community int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := b.db.SQL.QueryContext(ctx, b.db.Rebind(`SELECT "id", "name" FROM "`+table+`" WHERE "id" IN (`+placeholders(len(ids))+`) AND "community_id" = ?`), append(ids, community)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

func (b bare) slots(ctx context.Context, ids []any, community int64, byID map[int64]*bareActivity) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := b.db.SQL.QueryContext(ctx, b.db.Rebind(`SELECT "id", "community_id", "created_at", "updated_at", "activity_id", "name", "kind", "capacity", "taken", "waitlisted", "pending", "checked_in", "starts_at", "ends_at", "max_seats_per_signup", "requires_approval", "waitlist_enabled"
		FROM "slots" WHERE "activity_id" IN (`+placeholders(len(ids))+`) AND "community_id" = ?`), append(ids, community)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s bareSlot
		var id, activityID int64
		var skip any
		if err := rows.Scan(&id, &skip, &skip, &skip, &activityID, &s.Name, &skip, &s.Capacity, &s.Taken, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip); err != nil {
			return err
		}
		s.ID = b.ids.Encode(int(id))
		s.Available = max(s.Capacity-s.Taken, 0)
		if a := byID[activityID]; a != nil {
			a.Slots = append(a.Slots, s)
		}
	}
	return rows.Err()
}

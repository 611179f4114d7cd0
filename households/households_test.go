package households_test

import (
	"slices"
	"strings"
	"testing"

	"linli/ent/household"
	"linli/linlitest"
)

const createCommunity = `mutation($in: CreateCommunityInput!) { createCommunity(input: $in) { id name town city households residentPopulation areaKm2 } }`

// A platform admin onboards a community and names its first coordinator
// with setRoles; that coordinator then runs it. A coordinator cannot create
// communities.
func TestCreateCommunity(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		in := map[string]any{"name": "  幸福社区 ", "town": "枞阳镇", "city": "铜陵市", "households": 800, "residentPopulation": 2300, "areaKm2": 1.2}
		e.Do(t, w.coord, createCommunity, map[string]any{"in": in}).WantCode(t, "FORBIDDEN")
		e.Do(t, "", createCommunity, map[string]any{"in": in}).WantCode(t, "UNAUTHENTICATED")
		bad := e.Do(t, w.admin, createCommunity, map[string]any{"in": map[string]any{"name": " "}})
		bad.WantCode(t, "VALIDATION_FAILED")
		if bad.Field() != "input.name" {
			t.Fatalf("field %q, want input.name", bad.Field())
		}
		e.Do(t, w.admin, createCommunity, map[string]any{"in": map[string]any{"name": "x", "residentPopulation": -1}}).WantCode(t, "VALIDATION_FAILED")

		var out struct {
			CreateCommunity struct {
				ID, Name, Town, City           string
				Households, ResidentPopulation int
				AreaKm2                        float64
			}
		}
		e.Do(t, w.admin, createCommunity, map[string]any{"in": in}).Decode(t, &out)
		c := out.CreateCommunity
		if c.Name != "幸福社区" || c.Town != "枞阳镇" || c.Households != 800 || c.ResidentPopulation != 2300 || c.AreaKm2 != 1.2 {
			t.Fatalf("created %+v", c)
		}
		// Its first coordinator registers in it and the admin names them.
		var reg struct {
			Register struct {
				Token  string
				Viewer struct{ ID string }
			}
		}
		e.Do(t, "", `mutation($in: RegisterInput!) { register(input: $in) { token viewer { id } } }`, map[string]any{"in": map[string]any{
			"communityID": c.ID, "phone": linlitest.NextPhone(), "password": linlitest.Password, "displayName": "新社工",
		}}).Decode(t, &reg)
		setRoles := `mutation($p: ID!) { setRoles(personID: $p, roles: [COORDINATOR]) { id } }`
		e.Do(t, w.coord, setRoles, map[string]any{"p": reg.Register.Viewer.ID}).WantCode(t, "NOT_FOUND")
		var sr struct{ SetRoles struct{ ID string } }
		e.Do(t, w.admin, setRoles, map[string]any{"p": reg.Register.Viewer.ID}).Decode(t, &sr)
		newCoord := token(t, e, e.IntID(t, reg.Register.Viewer.ID))
		var h struct{ CreateHousehold struct{ ID string } }
		e.Do(t, newCoord, createHousehold, map[string]any{"in": map[string]any{"address": "幸福小区1栋101", "headName": "李大爷", "size": 2}}).Decode(t, &h)
		got, err := e.Client.Household.Get(e.Sys(), e.IntID(t, h.CreateHousehold.ID))
		if err != nil || got.CommunityID != e.IntID(t, c.ID) {
			t.Fatalf("household %+v, %v: want it in the new community", got, err)
		}
		// The other community's coordinator does not see it.
		var list householdList
		e.Do(t, w.coord, listHouseholds, nil).Decode(t, &list)
		if list.Households.TotalCount != 0 {
			t.Fatalf("community A lists %d households, want 0", list.Households.TotalCount)
		}
	})
}

const createHousehold = `mutation($in: CreateHouseholdInput!) { createHousehold(input: $in) { id address headName phone size careTags } }`

const listHouseholds = `query($w: HouseholdWhereInput) { households(first: 50, where: $w) { totalCount edges { node { id address headName phone size careTags } } } }`

type householdNode struct {
	ID, Address, HeadName, Phone string
	Size                         int
	CareTags                     []string
}

type householdList struct {
	Households struct {
		TotalCount int
		Edges      []struct{ Node householdNode }
	}
}

// Staff create and change households; everyone else is refused with a
// code, and bad input names its field.
func TestHouseholdCRUD(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		in := map[string]any{"address": "上码头小区3栋2单元301", "headName": "王大爷", "phone": "138 0000 1234", "size": 2, "careTags": []string{"LOW_INCOME", "EMPTY_NEST", "EMPTY_NEST"}}
		for _, tc := range []struct{ token, code string }{
			{"", "UNAUTHENTICATED"}, {w.res, "FORBIDDEN"}, {w.vol, "FORBIDDEN"}, {w.leader, "FORBIDDEN"}, {w.kiosk, "FORBIDDEN"},
		} {
			e.Do(t, tc.token, createHousehold, map[string]any{"in": in}).WantCode(t, tc.code)
		}
		var out struct{ CreateHousehold householdNode }
		e.Do(t, w.coord, createHousehold, map[string]any{"in": in}).Decode(t, &out)
		h := out.CreateHousehold
		if h.Phone != "13800001234" || h.HeadName != "王大爷" || !slices.Equal(h.CareTags, []string{"EMPTY_NEST", "LOW_INCOME"}) {
			t.Fatalf("created %+v", h)
		}
		dup := e.Do(t, w.coord, createHousehold, map[string]any{"in": map[string]any{"address": "上码头小区3栋2单元301", "headName": "x", "size": 1}})
		dup.WantCode(t, "CONFLICT")
		for field, change := range map[string]map[string]any{
			"input.size":    {"size": 0},
			"input.phone":   {"phone": "12ab"},
			"input.address": {"address": strings.Repeat("路", 301)},
		} {
			bad := map[string]any{"address": "上码头小区1栋101", "headName": "张阿姨", "size": 1}
			for k, v := range change {
				bad[k] = v
			}
			r := e.Do(t, w.coord, createHousehold, map[string]any{"in": bad})
			r.WantCode(t, "VALIDATION_FAILED")
			if r.Field() != field {
				t.Fatalf("field %q, want %s", r.Field(), field)
			}
		}

		update := `mutation($id: ID!, $in: UpdateHouseholdInput!) { updateHousehold(id: $id, input: $in) { id address headName phone size careTags } }`
		var up struct{ UpdateHousehold householdNode }
		e.Do(t, w.coord, update, map[string]any{"id": h.ID, "in": map[string]any{"size": 3, "careTags": []string{}}}).Decode(t, &up)
		if up.UpdateHousehold.Size != 3 || len(up.UpdateHousehold.CareTags) != 0 || up.UpdateHousehold.HeadName != "王大爷" {
			t.Fatalf("updated %+v", up.UpdateHousehold)
		}
		e.Do(t, w.coordB, update, map[string]any{"id": h.ID, "in": map[string]any{"size": 4}}).WantCode(t, "NOT_FOUND")
		e.Do(t, w.leader, update, map[string]any{"id": h.ID, "in": map[string]any{"size": 4}}).WantCode(t, "FORBIDDEN")
		e.Do(t, w.coord, update, map[string]any{"id": h.ID, "in": map[string]any{"size": 99}}).WantCode(t, "VALIDATION_FAILED")
		if got, _ := e.Client.Household.Get(e.Sys(), e.IntID(t, h.ID)); got.Size != 3 {
			t.Fatalf("size %d after refused changes, want 3", got.Size)
		}
	})
}

// Care tags are for staff only on every path (node, list, the edge from a
// visit, the careTag filter); head name and phone are masked except to
// staff; those who may not read households read none.
func TestCareTagsAndMasks(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		w := newWorld(t, e)
		var out struct{ CreateHousehold householdNode }
		e.Do(t, w.coord, createHousehold, map[string]any{"in": map[string]any{
			"address": "上码头小区3栋2单元301", "headName": "王大爷", "phone": "13800001234", "size": 1, "careTags": []string{"EMPTY_NEST", "DISABILITY"}}}).Decode(t, &out)
		tagged := out.CreateHousehold.ID
		e.Do(t, w.coord, createHousehold, map[string]any{"in": map[string]any{
			"address": "上码头小区3栋2单元302", "headName": "赵女士", "phone": "13900005678", "size": 3}}).Decode(t, &out)
		var visit struct{ RecordHomeVisit struct{ ID string } }
		e.Do(t, w.leader, recordVisit, map[string]any{"in": map[string]any{
			"householdID": tagged, "kind": "CARE_VISIT", "visitedAt": hourAgo(), "minutes": 60, "teamID": e.ID(w.team.ID),
			"volunteerIDs": []string{e.ID(w.volP.ID)}}}).Decode(t, &visit)

		node := `query($id: ID!) { node(id: $id) { ... on Household { id headName phone careTags visits(first: 5) { totalCount } } } }`
		edge := `query($id: ID!) { node(id: $id) { ... on HomeVisit { id household { id headName phone careTags } } } }`
		secrets := []string{"王大爷", "13800001234", "EMPTY_NEST", "DISABILITY"}
		for _, tc := range []struct {
			name, token string
			// reads: lists and nodes show households; full: unmasked with tags.
			reads, full bool
			listCode    string
		}{
			{"staff", w.coord, true, true, ""},
			{"team leader", w.leader, true, false, ""},
			{"volunteer", w.vol, false, false, "FORBIDDEN"},
			{"resident", w.res, false, false, "FORBIDDEN"},
			{"kiosk", w.kiosk, false, false, "FORBIDDEN"},
			{"other community's coordinator", w.coordB, false, false, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var raw []string
				n := e.Do(t, tc.token, node, map[string]any{"id": tagged})
				raw = append(raw, string(n.Data))
				var nd struct {
					Node *struct {
						householdNode
						Visits struct{ TotalCount int }
					}
				}
				_ = jsonDecode(n.Data, &nd)
				ed := e.Do(t, tc.token, edge, map[string]any{"id": visit.RecordHomeVisit.ID})
				raw = append(raw, string(ed.Data))
				var ev struct {
					Node *struct{ Household *householdNode }
				}
				_ = jsonDecode(ed.Data, &ev)
				list := e.Do(t, tc.token, listHouseholds, nil)
				raw = append(raw, string(list.Data))
				filtered := e.Do(t, tc.token, listHouseholds, map[string]any{"w": map[string]any{"careTag": "EMPTY_NEST"}})
				raw = append(raw, string(filtered.Data))
				negated := e.Do(t, tc.token, listHouseholds, map[string]any{"w": map[string]any{"not": map[string]any{"careTag": "DISABILITY"}}})
				raw = append(raw, string(negated.Data))
				if tc.listCode != "" {
					list.WantCode(t, tc.listCode)
					filtered.WantCode(t, tc.listCode)
				}

				if !tc.reads {
					if nd.Node != nil && nd.Node.ID != "" {
						t.Fatalf("node(id:) shows the household: %s", n.Data)
					}
					if ev.Node != nil && ev.Node.Household != nil {
						t.Fatalf("the visit's edge shows the household: %s", ed.Data)
					}
					var l householdList
					if tc.listCode == "" {
						list.Decode(t, &l)
						if l.Households.TotalCount != 0 {
							t.Fatalf("lists %d households of another community", l.Households.TotalCount)
						}
					}
					for _, r := range raw {
						for _, s := range secrets {
							if strings.Contains(r, s) {
								t.Fatalf("%q leaked in %s", s, r)
							}
						}
					}
					return
				}
				var l, f, neg householdList
				list.Decode(t, &l)
				filtered.Decode(t, &f)
				negated.Decode(t, &neg)
				if l.Households.TotalCount != 2 || nd.Node == nil || ev.Node == nil || ev.Node.Household == nil {
					t.Fatalf("reads: list %d, node %s, edge %s", l.Households.TotalCount, n.Data, ed.Data)
				}
				if nd.Node.Visits.TotalCount != 1 {
					t.Fatalf("household shows %d visits, want 1", nd.Node.Visits.TotalCount)
				}
				views := []householdNode{nd.Node.householdNode, *ev.Node.Household}
				for _, e := range l.Households.Edges {
					if e.Node.ID == tagged {
						views = append(views, e.Node)
					}
				}
				for _, v := range views {
					if tc.full {
						if v.HeadName != "王大爷" || v.Phone != "13800001234" || !slices.Equal(v.CareTags, []string{"DISABILITY", "EMPTY_NEST"}) {
							t.Fatalf("staff see %+v", v)
						}
						continue
					}
					if v.HeadName != "王**" || v.Phone != "138****1234" || len(v.CareTags) != 0 {
						t.Fatalf("a team leader sees %+v: want a masked head, masked phone and no care tags", v)
					}
				}
				wantFiltered, wantNegated := 1, 1
				if !tc.full {
					// The filter tells nothing: as if no household had tags.
					wantFiltered, wantNegated = 0, 2
				}
				if f.Households.TotalCount != wantFiltered || neg.Households.TotalCount != wantNegated {
					t.Fatalf("careTag filter: %d, negated %d; want %d and %d", f.Households.TotalCount, neg.Households.TotalCount, wantFiltered, wantNegated)
				}
				if !tc.full {
					for _, r := range raw {
						for _, s := range secrets {
							if strings.Contains(r, s) {
								t.Fatalf("%q leaked in %s", s, r)
							}
						}
					}
				}
			})
		}
		// The address filter and visitedSince.
		var l householdList
		e.Do(t, w.coord, listHouseholds, map[string]any{"w": map[string]any{"addressContains": "302"}}).Decode(t, &l)
		if l.Households.TotalCount != 1 || l.Households.Edges[0].Node.HeadName != "赵女士" {
			t.Fatalf("addressContains: %+v", l.Households)
		}
		e.Do(t, w.coord, listHouseholds, map[string]any{"w": map[string]any{"visitedSince": hoursAgo(2)}}).Decode(t, &l)
		if l.Households.TotalCount != 1 || l.Households.Edges[0].Node.ID != tagged {
			t.Fatalf("visitedSince: %+v", l.Households)
		}
		e.Do(t, w.coord, listHouseholds, map[string]any{"w": map[string]any{"visitedSince": hoursAgo(0)}}).Decode(t, &l)
		if l.Households.TotalCount != 0 {
			t.Fatalf("visitedSince now: %d, want 0", l.Households.TotalCount)
		}
		// Another team's leader sees the household but not this team's visit.
		e.Do(t, w.other, listHouseholds, map[string]any{"w": map[string]any{"visitedSince": hoursAgo(2)}}).Decode(t, &l)
		if l.Households.TotalCount != 0 {
			t.Fatalf("another team's leader finds %d households by a visit they may not read", l.Households.TotalCount)
		}
		if n, _ := e.Client.Household.Query().Where(household.CommunityID(w.a.ID)).Count(e.Sys()); n != 2 {
			t.Fatalf("%d households", n)
		}
	})
}

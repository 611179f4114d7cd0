package mask

import (
	"context"
	"strings"
	"testing"

	"linli/viewer"
)

func TestPhoneMasked(t *testing.T) {
	for in, want := range map[string]string{
		"13812341234":    "138****1234",
		"+8613812341234": "+86*******1234",
		"12345678901":    "123****8901",
		"1234567890":     "1*******90",
		"12345678":       "1******8",
		"1234567":        "1*****7",
		"123456":         "1****6",
		"12345":          "****5",
		"":               "",
	} {
		if got := PhoneMasked(in); got != want {
			t.Errorf("PhoneMasked(%q) = %q, want %q", in, got, want)
		}
		// Shorter than 11: at most a third of it is shown.
		if shown := len(in) - strings.Count(PhoneMasked(in), "*"); len(in) < 11 && shown > len(in)/3 {
			t.Errorf("PhoneMasked(%q) shows %d of %d characters", in, shown, len(in))
		}
	}
}

func TestCanSeePersonal(t *testing.T) {
	const community, person = 7, 42
	for _, tc := range []struct {
		name string
		v    *viewer.Viewer
		want bool
	}{
		{"anonymous", nil, false},
		{"self", &viewer.Viewer{PersonID: person, CommunityID: community}, true},
		{"neighbour", &viewer.Viewer{PersonID: 43, CommunityID: community, Roles: []viewer.Role{viewer.Volunteer, viewer.TeamLeader}}, false},
		{"coordinator", &viewer.Viewer{PersonID: 44, CommunityID: community, Roles: []viewer.Role{viewer.Coordinator}}, true},
		{"coordinator elsewhere", &viewer.Viewer{PersonID: 45, CommunityID: 8, Roles: []viewer.Role{viewer.Coordinator}}, false},
		{"admin", &viewer.Viewer{PersonID: 46, CommunityID: 8, Roles: []viewer.Role{viewer.Admin}}, true},
		{"kiosk", &viewer.Viewer{KioskID: 1, CommunityID: community}, false},
	} {
		ctx := viewer.NewContext(context.Background(), tc.v)
		if got := CanSeePersonal(ctx, community, person); got != tc.want {
			t.Errorf("%s: CanSeePersonal = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestName(t *testing.T) {
	for in, want := range map[string]string{"王芳": "王*", "欧阳娜娜": "欧**", "李": "李", "": "*"} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}

package requests

// Table tests of the request lifecycle's pure rules (no database, in the
// -short loop): every action from every status by every role, against a
// table written out here independently of Transitions, and Overdue.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"linli/authz"
	"linli/ent"
	"linli/ent/request"
)

func TestTransitionsTable(t *testing.T) {
	statuses := []request.Status{request.StatusSUBMITTED, request.StatusACCEPTED, request.StatusASSIGNED,
		request.StatusIN_PROGRESS, request.StatusRESOLVED, request.StatusCLOSED, request.StatusREJECTED}
	roles := map[string]authz.RequestRole{"staff": staff, "submitter": submitter, "assignee": assignee, "leader": leader}
	// move is an allowed transition's target and who may make it.
	type move struct {
		to  request.Status
		who string // role names, space-separated
	}
	S, A, AS, IP, R, C, RJ := request.StatusSUBMITTED, request.StatusACCEPTED, request.StatusASSIGNED,
		request.StatusIN_PROGRESS, request.StatusRESOLVED, request.StatusCLOSED, request.StatusREJECTED
	want := map[Action]map[request.Status]move{
		Accept:  {S: {A, "staff"}},
		Assign:  {A: {AS, "staff"}, AS: {AS, "staff"}, IP: {AS, "staff"}},
		Start:   {AS: {IP, "staff assignee leader"}},
		Resolve: {IP: {R, "staff assignee leader"}, A: {R, "staff"}, AS: {R, "staff"}},
		Confirm: {R: {C, "submitter staff"}},
		Reopen:  {R: {AS, "submitter"}, C: {AS, "submitter"}},
		Reject:  {S: {RJ, "staff"}, A: {RJ, "staff"}},
		// A home visit is recorded, never a transition anyone asks for.
		Visit: {},
	}
	for _, action := range []Action{Accept, Assign, Start, Resolve, Confirm, Reopen, Reject, Visit} {
		for _, from := range statuses {
			for name, role := range roles {
				m, statusOK := want[action][from]
				allowed := statusOK && slices.Contains(strings.Fields(m.who), name)
				tr, gotOK, gotAllowed := find(action, from, role)
				label := fmt.Sprintf("%s from %s by %s", action, from, name)
				if gotOK != statusOK || gotAllowed != allowed {
					t.Errorf("%s: statusOK %v allowed %v, want %v %v", label, gotOK, gotAllowed, statusOK, allowed)
					continue
				}
				if allowed && (tr.To != m.to || tr.Action != action) {
					t.Errorf("%s: to %s, want %s", label, tr.To, m.to)
				}
			}
			// Nobody: no role at all is never allowed.
			if _, _, ok := find(action, from, 0); ok {
				t.Errorf("%s from %s by nobody: allowed", action, from)
			}
		}
	}
	// Every terminal status stays terminal except by reopening.
	for _, action := range []Action{Accept, Assign, Start, Resolve, Confirm, Reject} {
		if _, ok, _ := find(action, RJ, staff|submitter|assignee|leader); ok {
			t.Errorf("%s from REJECTED: the status allows it", action)
		}
	}
}

func TestOverdueTable(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Second)
	for _, c := range []struct {
		status  request.Status
		due     *time.Time
		overdue bool
	}{
		{request.StatusACCEPTED, &past, true},
		{request.StatusASSIGNED, &past, true},
		{request.StatusIN_PROGRESS, &past, true},
		{request.StatusIN_PROGRESS, &future, false},
		{request.StatusIN_PROGRESS, &now, false},
		{request.StatusIN_PROGRESS, nil, false},
		{request.StatusSUBMITTED, &past, false},
		{request.StatusRESOLVED, &past, false},
		{request.StatusCLOSED, &past, false},
		{request.StatusREJECTED, &past, false},
	} {
		r := &ent.Request{Status: c.status, DueAt: c.due}
		if got := Overdue(r, now); got != c.overdue {
			t.Errorf("Overdue(%s, due %v) = %v, want %v", c.status, c.due, got, c.overdue)
		}
	}
	for k := range DueAfter {
		if dueAfter(k) != DueAfter[k] {
			t.Errorf("dueAfter(%s) = %v, want %v", k, dueAfter(k), DueAfter[k])
		}
	}
	if got := dueAfter("NO_SUCH_KIND"); got != 7*24*time.Hour {
		t.Errorf("dueAfter of an unknown kind = %v, want a week", got)
	}
}

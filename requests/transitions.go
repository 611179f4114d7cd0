// Package requests runs residents' requests (诉求 / 社情民意): a resident
// raises one from the phone, or staff enter it on someone's behalf; staff
// accept it (with a due time) and assign it to a team and/or a volunteer,
// who start and resolve it; the resident confirms it with a satisfaction,
// or reopens it within the reopen window. Transitions is the one table of
// what may follow what, and who may do it. Every transition is a
// conditional update on the version the caller read (two concurrent ones
// cannot both win: the second is CONFLICT), recorded in the request's
// history, and announced after commit (events.Request).
package requests

import (
	"slices"
	"time"

	"linli/authz"
	"linli/ent"
	"linli/ent/predicate"
	"linli/ent/request"
)

// Action is a transition, as recorded in a request's history.
type Action string

// The actions (VISIT is recorded by a home visit that served the request).
const (
	Submit  Action = "SUBMIT"
	Accept  Action = "ACCEPT"
	Assign  Action = "ASSIGN"
	Start   Action = "START"
	Resolve Action = "RESOLVE"
	Confirm Action = "CONFIRM"
	Reopen  Action = "REOPEN"
	Reject  Action = "REJECT"
	Visit   Action = "VISIT"
)

// Transition is one allowed move: action from one of From to To, by a
// viewer holding one of the roles Who towards the request.
type Transition struct {
	Action Action
	From   []request.Status
	To     request.Status
	Who    authz.RequestRole
}

const (
	staff     = authz.RequestStaff
	submitter = authz.RequestSubmitter
	assignee  = authz.RequestAssignee
	leader    = authz.RequestTeamLeader
)

// Transitions is every allowed transition after submission (SUBMIT creates
// a SUBMITTED request: a resident for themselves, staff on someone's
// behalf). Anything else is refused: CONFLICT when the request's status
// does not allow the action, FORBIDDEN when it does but not for the
// viewer.
var Transitions = []Transition{
	{Accept, []request.Status{request.StatusSUBMITTED}, request.StatusACCEPTED, staff},
	// Assigning again re-assigns (also while in progress).
	{Assign, []request.Status{request.StatusACCEPTED, request.StatusASSIGNED, request.StatusIN_PROGRESS}, request.StatusASSIGNED, staff},
	// Staff may make every move a team leader or assignee may: in a small
	// community the coordinator records that work has begun.
	{Start, []request.Status{request.StatusASSIGNED}, request.StatusIN_PROGRESS, staff | assignee | leader},
	{Resolve, []request.Status{request.StatusIN_PROGRESS}, request.StatusRESOLVED, staff | assignee | leader},
	// Staff may settle a request at once (a question explained on the phone).
	{Resolve, []request.Status{request.StatusACCEPTED, request.StatusASSIGNED}, request.StatusRESOLVED, staff},
	// The submitter rates it; or staff, after a follow-up call (回访).
	{Confirm, []request.Status{request.StatusRESOLVED}, request.StatusCLOSED, submitter | staff},
	// Back to the assignee (ASSIGNED), or to ACCEPTED when nobody was
	// assigned; only within the reopen window after resolution.
	{Reopen, []request.Status{request.StatusRESOLVED, request.StatusCLOSED}, request.StatusASSIGNED, submitter},
	{Reject, []request.Status{request.StatusSUBMITTED, request.StatusACCEPTED}, request.StatusREJECTED, staff},
}

// DueAfter is how long after acceptance a request of each kind is due,
// unless staff set a due time.
var DueAfter = map[request.Kind]time.Duration{
	request.KindREPAIR:       3 * 24 * time.Hour,
	request.KindELDERLY_CARE: 2 * 24 * time.Hour,
	request.KindDISPUTE:      7 * 24 * time.Hour,
	request.KindLEGAL:        7 * 24 * time.Hour,
	request.KindHEALTH:       2 * 24 * time.Hour,
	request.KindEMPLOYMENT:   14 * 24 * time.Hour,
	request.KindLIVELIHOOD:   7 * 24 * time.Hour,
	request.KindENVIRONMENT:  5 * 24 * time.Hour,
	request.KindSUGGESTION:   14 * 24 * time.Hour,
	request.KindOTHER:        7 * 24 * time.Hour,
}

// dueAfter is DueAfter[kind], a week for a kind missing from it.
func dueAfter(k request.Kind) time.Duration {
	if d, ok := DueAfter[k]; ok {
		return d
	}
	return 7 * 24 * time.Hour
}

// Open are the statuses in which a request is being worked on and can be
// overdue.
var Open = []request.Status{request.StatusACCEPTED, request.StatusASSIGNED, request.StatusIN_PROGRESS}

// Overdue reports whether r is past its due time at now and still open.
func Overdue(r *ent.Request, now time.Time) bool {
	return r.DueAt != nil && r.DueAt.Before(now) && slices.Contains(Open, r.Status)
}

// OverdueP is Overdue as a query predicate (overdue false: its negation).
func OverdueP(overdue bool, now time.Time) predicate.Request {
	p := request.And(request.DueAtNotNil(), request.DueAtLT(now), request.StatusIn(Open...))
	if overdue {
		return p
	}
	return request.Not(p)
}

// find returns the transition for action from status that a viewer with
// roles may make; statusOK says whether the status allows the action at
// all.
func find(action Action, status request.Status, roles authz.RequestRole) (t Transition, statusOK, allowed bool) {
	for _, tr := range Transitions {
		if tr.Action != action || !slices.Contains(tr.From, status) {
			continue
		}
		statusOK = true
		if tr.Who&roles != 0 {
			return tr, true, true
		}
	}
	return Transition{}, statusOK, false
}

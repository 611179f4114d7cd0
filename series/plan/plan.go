// Package plan holds the shape of an activity that is not yet an activity:
// what a template or a series keeps of its slots. It imports nothing of
// linli, so the Ent schema can store it as JSON.
package plan

// Slot is one slot of a template or series: its seats and rules, and its
// times as minutes after the activity's start (nil: the activity's own).
type Slot struct {
	Name              string `json:"name"`
	Kind              string `json:"kind"`
	Capacity          int    `json:"capacity"`
	StartOffset       *int   `json:"startOffset,omitempty"`
	EndOffset         *int   `json:"endOffset,omitempty"`
	MaxSeatsPerSignup int    `json:"maxSeatsPerSignup"`
	RequiresApproval  bool   `json:"requiresApproval"`
	WaitlistEnabled   bool   `json:"waitlistEnabled"`
}

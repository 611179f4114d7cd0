package graph

import "linli/graph/model"

// careTags turns the API's care tags into the strings households keeps
// (nil stays nil: "leave the tags as they are").
func careTags(tags []model.CareTag) []string {
	if tags == nil {
		return nil
	}
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = string(t)
	}
	return out
}

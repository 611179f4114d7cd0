// Package trusted holds the documents a request may name by the sha256 of
// their text: trusted documents, the allow-list of GraphQL operation
// documents a deployment ships (its SPA, its kiosk app), and the gqlgen
// extension that resolves hashes on every transport, from that list when it
// is switched on (running nothing else), or else from the store of
// automatic persisted queries (a Registry, see the persisted package).
package trusted

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Documents finds operation documents by the lowercase hex sha256 of their
// text. A Manifest is one; the store of automatic persisted queries
// (persisted.Store) is another.
type Documents interface {
	Document(ctx context.Context, sha256Hex string) (document string, ok bool)
}

// Manifest is a fixed list of documents by hash.
type Manifest map[string]string

// Document implements Documents.
func (m Manifest) Document(_ context.Context, hash string) (string, bool) {
	d, ok := m[hash]
	return d, ok
}

// Hash is the key of document: its sha256, lowercase hex.
func Hash(document string) string {
	sum := sha256.Sum256([]byte(document))
	return hex.EncodeToString(sum[:])
}

// ReadFile reads a manifest file (see Parse).
func ReadFile(path string) (Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trusted documents: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("trusted documents %s: %w", path, err)
	}
	return m, nil
}

// Parse reads a manifest in either of the two shapes clients' build tools
// write:
//
//   - an object from hash to document, {"<sha256>": "query …", …}, as GraphQL
//     Code Generator's persisted documents and Relay's persisted queries;
//   - Apollo's persisted query manifest, {"format":
//     "apollo-persisted-query-manifest", "version": 1, "operations": [{"id":
//     "<sha256>", "body": "query …", "name": …, "type": …}, …]}.
//
// Every hash must be the sha256 of its document (so that a client sending
// the full text matches the same entry as one sending the hash), and the
// list must not be empty: a manifest that would refuse every operation is a
// build mistake, better caught at start.
func Parse(data []byte) (Manifest, error) {
	var apollo struct {
		Format     string `json:"format"`
		Version    int    `json:"version"`
		Operations []struct {
			ID   string `json:"id"`
			Body string `json:"body"`
		} `json:"operations"`
	}
	pairs := map[string]string{}
	trimmed := bytes.TrimSpace(data)
	if json.Unmarshal(trimmed, &apollo) == nil && (apollo.Format != "" || apollo.Operations != nil) {
		if apollo.Format != "apollo-persisted-query-manifest" || apollo.Version != 1 {
			return nil, fmt.Errorf("unsupported manifest format %q version %d", apollo.Format, apollo.Version)
		}
		for i, op := range apollo.Operations {
			if _, dup := pairs[op.ID]; dup {
				return nil, fmt.Errorf("operation %d: id %s listed twice", i, op.ID)
			}
			pairs[op.ID] = op.Body
		}
	} else if err := json.Unmarshal(trimmed, &pairs); err != nil {
		return nil, errors.New(`want {"<sha256>": "<document>", …} or an Apollo persisted query manifest`)
	}
	if len(pairs) == 0 {
		return nil, errors.New("no documents")
	}
	m := make(Manifest, len(pairs))
	for id, doc := range pairs {
		if doc == "" {
			return nil, fmt.Errorf("%.64s: empty document", id)
		}
		if h := Hash(doc); h != strings.ToLower(id) {
			return nil, fmt.Errorf("%.64s: not the sha256 of its document (%s)", id, h)
		}
		m[strings.ToLower(id)] = doc
	}
	return m, nil
}

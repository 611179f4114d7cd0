// Package idem is linli's one idempotency rule. A client may send a key with
// a mutation it might retry; the first request with that key is carried
// out and its answer remembered, in the same transaction as its writes. A
// retry with the same key and the same request gets the remembered answer
// (even if the state has changed since: the slot filled, the visit was
// edited); the same key with a different request is a CONFLICT. A refusal
// is never remembered: it changed nothing, and a retry may succeed.
//
// Keys are the actor's own (the person who asked, whatever they asked for);
// they are kept for Retention and then purged.
//
// The rule is Decide; Check and Remember apply it to the idempotency_keys
// table for one request. A batched writer (the ledger's sign-ups) may load
// many keys at once, but decides each with Decide.
package idem

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/idempotencykey"
	"linli/viewer"
)

// MaxKeyBytes bounds a client's key.
const MaxKeyBytes = 200

// Retention is how long a key's answer is kept.
const Retention = 48 * time.Hour

// Outcome is what a request with a key is.
type Outcome int

const (
	// New: no answer is remembered for this key; carry the request out and
	// Remember its answer.
	New Outcome = iota
	// Replay: the same request was carried out before; return its answer.
	Replay
	// Conflict: the key was used for a different request.
	Conflict
)

func (o Outcome) String() string {
	switch o {
	case New:
		return "new"
	case Replay:
		return "replay"
	case Conflict:
		return "conflict"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Validate checks a client's key before anything is read: at most
// MaxKeyBytes. An empty key means the client does not retry.
func Validate(field, key string) error {
	if len(key) > MaxKeyBytes {
		return apperr.Invalid(field, "%s must be at most %d bytes", field, MaxKeyBytes)
	}
	return nil
}

// Hash identifies a request: its scope (the operation) and the parts of its
// input that make it this request. Parts are written with %v, separated by
// NUL, so callers list the fields, not a struct with pointers.
func Hash(scope string, parts ...any) []byte {
	h := sha256.New()
	h.Write([]byte(scope))
	for _, p := range parts {
		fmt.Fprintf(h, "\x00%v", p)
	}
	return h.Sum(nil)
}

// Decide is the rule: given the answer remembered for a key (nil: none),
// is a request of scope with hash new, a replay or a conflict?
func Decide(stored *ent.IdempotencyKey, scope string, hash []byte) Outcome {
	if stored == nil {
		return New
	}
	return Match(stored.Operation, stored.RequestHash, scope, hash)
}

// Match is Decide for a key whose answer is known but kept elsewhere (an
// answer decided earlier in the same batch, a door scan's record, which is
// its own answer): the same scope and hash are a Replay, anything else a
// Conflict.
func Match(storedScope string, storedHash []byte, scope string, hash []byte) Outcome {
	if storedScope != scope || !bytes.Equal(storedHash, hash) {
		return Conflict
	}
	return Replay
}

// ConflictError is the error a Conflict outcome answers with; field names
// the key (idempotencyKey, or a kiosk's nonce).
func ConflictError(field string) error {
	name := field
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return &apperr.Error{Code: apperr.Conflict, Field: field,
		Message: fmt.Sprintf("this %s was used for a different request", name)}
}

// Lookup reads the answer remembered for the actor's key (nil if none),
// through keys (a client's or a transaction's IdempotencyKey client).
func Lookup(ctx context.Context, keys *ent.IdempotencyKeyClient, actor int, key string) (*ent.IdempotencyKey, error) {
	k, err := keys.Query().Where(idempotencykey.PersonID(actor), idempotencykey.Key(key)).
		Only(viewer.System(ctx)) // keys are system rows; the actor is given
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return k, err
}

// Check looks the key up and decides. On Replay the remembered answer is
// returned; on Conflict the error is ConflictError(field).
func Check(ctx context.Context, keys *ent.IdempotencyKeyClient, field, scope string, actor int, key string, hash []byte) (Outcome, []byte, error) {
	stored, err := Lookup(ctx, keys, actor, key)
	if err != nil {
		return New, nil, err
	}
	switch o := Decide(stored, scope, hash); o {
	case Replay:
		return o, stored.Response, nil
	case Conflict:
		return o, nil, ConflictError(field)
	default:
		return o, nil, nil
	}
}

// Record is the row that remembers answer for the actor's key; create it in
// the transaction of the request's writes (alone with Remember, or in bulk).
// A unique violation on commit means a concurrent request with the same key
// won: Check again.
func Record(keys *ent.IdempotencyKeyClient, scope string, actor int, key string, hash, answer []byte, at time.Time) *ent.IdempotencyKeyCreate {
	return keys.Create().SetPersonID(actor).SetKey(key).SetOperation(scope).
		SetRequestHash(hash).SetResponse(answer).SetCreatedAt(at)
}

// Remember saves answer for the actor's key in tx.
func Remember(ctx context.Context, tx *ent.Tx, scope string, actor int, key string, hash, answer []byte) error {
	return Record(tx.IdempotencyKey, scope, actor, key, hash, answer, time.Now()).Exec(viewer.System(ctx))
}

// Purge deletes keys older than Retention.
func Purge(ctx context.Context, keys *ent.IdempotencyKeyClient, now time.Time) (int, error) {
	return keys.Delete().Where(idempotencykey.CreatedAtLT(now.Add(-Retention))).Exec(viewer.System(ctx))
}

// Package jobs is linli's durable background work: an outbox table (the
// Job entity) written in the same Ent transaction as the change that
// causes the work, and a Runner that works it after commit.
//
// # Enqueueing
//
//	err := jobs.Enqueue(ctx, tx, jobs.Job{Kind: "notify.send", Payload: p, RunAt: t, Key: "…"})
//
// Enqueue takes the caller's *ent.Tx (the one store.InTx gives): a
// rolled-back transaction leaves no job, a committed one is never
// forgotten. Any number of jobs go in with one INSERT statement (two when
// both conflict policies are used). After the commit, every Runner of this
// process is woken at once; the Runners of other replicas find the job at
// their next poll (Options.Poll, 1 s). EnqueueNow does the same outside a
// transaction.
//
// Payload is encoded as JSON (a []byte or json.RawMessage is stored as is);
// a handler decodes it with Claimed.Decode. RunAt zero means now.
//
// # Unique keys
//
// A job with a Key is the only job holding that key while it waits, runs or
// is FAILED (a done job is deleted, freeing its key). Enqueueing a key that
// is held keeps the existing job (OnConflict Keep, the default: dedupe) or
// replaces its kind, payload, run time and attempts (Replace: reschedule).
// Reschedule moves a held key's run time; CancelKey deletes its job (a job
// running then still finishes, but its completion no longer touches the
// table). Keys are global: prefix them with the kind ("notify.send:17:SMS").
//
// # Handlers, retries, failure
//
// A Runner works the kinds registered on it (Handle); it claims only those,
// so a replica that does not know a kind leaves it to those that do. A
// handler's error retries the job after an exponential backoff (1 s, 2 s,
// 4 s, … capped at 1 h, with jitter) until MaxAttempts (default 10) ran
// out; the job then stays in state FAILED with its last error (Failed lists
// them for staff; Retry puts one back). Permanent(err) fails at once.
//
// A handler may finish its job inside its own transaction
// (Claimed.CompleteIn): its writes and the job's removal then commit
// together, so work that is only writes (an inbox row) happens exactly
// once even if the replica dies between the two. Otherwise the Runner
// removes the job after the handler returned nil: at least once.
//
// # Periodic jobs
//
// Periodic(kind, every, h) keeps one job row per kind (key "periodic:"+kind)
// shared by every replica: one of them runs it, then it is due again every
// later. It runs at start when its time has passed (e.g. while linli was
// down).
//
// # Claims, leases, crashes, several replicas
//
// A claim is one statement: on PostgreSQL an UPDATE of the oldest due jobs
// chosen with FOR UPDATE SKIP LOCKED, so concurrent replicas never claim
// the same row; on SQLite the same statement under the single writer lock.
// A claim sets a random lease token and a lease expiry (Options.Lease,
// 5 min; a handler's context ends before it). A replica killed mid-job
// leaves the lease to expire; then any replica claims the job again. Every
// completion is conditional on the lease token, so a job re-claimed by
// another never gets completed twice by the old holder.
//
// # Shutdown
//
// Stop stops claiming, waits for running handlers until its context ends,
// then cancels them and releases their leases at once (the jobs are due
// again for the next replica or the next start): nothing is lost.
package jobs

// Package notify tells people what happened: every cause (a waitlist
// promotion, an approval, a moved or cancelled activity, a credited
// volunteer shift, a certificate, a request's transition, a reminder before
// an activity, a follow-up after a resolved request) becomes notifications
// in the inbox of the people concerned (the in-app channel, always on),
// pushed live to their myNotifications subscription, and copies on the
// external channels they chose.
//
// # One entry point
//
//	err := notify.Emit(ctx, tx, notify.Event{Kind: notification.KindWAITLIST_PROMOTED, CommunityID: c,
//		ActivityID: a, RegistrationID: r, PersonIDs: []int{p}})
//
// Emit runs inside the cause's Ent transaction and enqueues one job
// (KindEvent) per event, all events of a call in one statement: a rolled
// back change notifies nobody, a committed one is never forgotten. The
// job is worked after commit (jobs package): it resolves the recipients
// (PersonIDs, or by kind: the registration's person, every holder of a
// seat or waitlist place of the activity, the request's submitter, its
// assignee or team leaders), drops those who muted the kind, writes one
// inbox row per person (Notification.source dedupes: the same cause
// never notifies a person twice), and, in the same transaction, hands the
// event to the consumers (AddConsumer) and enqueues the external copies
// (below); the job completes in that transaction too, so a crash between
// the inbox rows and the job's completion cannot notify twice.
//
// Reminders need no job per sign-up (which would slow the ledger): a
// periodic sweep (KindReminderSweep) finds the (registration, lead time)
// pairs that fell due since the last sweep and writes their inbox rows in
// bulk, keyed (person, activity, lead, start): moving an activity gives new
// reminders for the new time, a cancelled activity or registration has
// none, and a reminder that fell due while linli was down is sent late
// only if its activity has not started.
//
// # External channels: the hook for senders
//
// After the inbox rows of an event are written, for each recipient and
// each external channel (WECHAT, SMS) they enabled for that kind, a job
// of kind KindSend with payload SendPayload{NotificationID, Channel} and
// key "notify.send:<notification>:<channel>" is enqueued, due at the
// quiet-hours-adjusted time (QuietHours.Deliver: the end of the window when
// the notification was made inside the person's quiet hours; a reminder due
// inside them is made before the window instead). Whoever delivers
// registers the handler:
//
//	runner.Handle(notify.KindSend, func(ctx context.Context, c *jobs.Claimed) error {
//		var p notify.SendPayload
//		if err := c.Decode(&p); err != nil { return err }
//		…  // read the Notification (viewer.System), send, return an error to retry
//	})
//
// # Extra consumers of events
//
// Service.AddConsumer(name, f) registers f to see every worked event (its
// kind, ids and resolved recipients) inside the event job's transaction,
// where it may enqueue jobs of its own (community webhooks do).
package notify

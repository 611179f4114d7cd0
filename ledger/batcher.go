package ledger

import (
	"context"
	"sync"
	"time"

	"linli/ent"
)

// MaxBatch bounds how many ops one transaction decides.
const MaxBatch = 256

// batchTimeout bounds one batched transaction; it runs detached from the
// leader's request, whose cancellation must not fail the others.
const batchTimeout = 30 * time.Second

// Shards is how many transactions the batcher keeps in flight at once: the
// activities are spread over them by id, so the ops of one activity always
// meet in the same queue, and those of a few activities share one
// transaction (one lock statement, one insert) when they arrive together.
const Shards = 1

// batcher queues ops by shard. There is no waiting window: the first op of
// an idle shard leads at once and runs alone; ops that arrive while its
// transaction is in flight queue behind it, and when it is done the first
// of them leads the next batch with up to MaxBatch of them. Each caller
// leads at most one batch, the one its own op is in, so nobody serves
// others while its own caller waits. Across processes, the activities' row
// locks (Lock) order the batches.
type batcher struct {
	mu     sync.Mutex
	queues map[int]*queue
}

type queue struct {
	waiting []*request
	busy    bool
}

type request struct {
	ctx  context.Context
	op   Op
	err  error
	wake chan bool // true: lead the next batch; false: done, err is set
}

// Submit runs op through its activity's batcher and returns its refusal or
// failure once its batch committed (or failed). An op that learns its
// activity in the batch (Preparer) queues in the first shard.
func (l *Ledger) Submit(ctx context.Context, op Op) error {
	if l.bypass != nil {
		return l.bypass(ctx, op)
	}
	r := &request{ctx: ctx, op: op, wake: make(chan bool, 1)}
	id := op.ActivityID() % Shards
	bt := &l.batches
	bt.mu.Lock()
	q := bt.queues[id]
	if q == nil {
		q = &queue{}
		bt.queues[id] = q
	}
	q.waiting = append(q.waiting, r)
	lead := !q.busy
	q.busy = true
	bt.mu.Unlock()
	if !lead && !<-r.wake {
		return r.err
	}

	bt.mu.Lock()
	n := min(len(q.waiting), MaxBatch)
	batch := q.waiting[:n:n]
	q.waiting = q.waiting[n:]
	bt.mu.Unlock()

	l.runBatch(ctx, batch)

	bt.mu.Lock()
	var next *request
	if len(q.waiting) > 0 {
		next = q.waiting[0]
	} else {
		q.busy = false
		delete(bt.queues, id)
	}
	bt.mu.Unlock()
	if next != nil {
		next.wake <- true
	}
	for _, o := range batch {
		if o != r {
			o.wake <- false
		}
	}
	return r.err
}

// runBatch decides and commits a batch, setting each request's err. When
// the batch fails as a whole, its ops run again one at a time, so one bad
// op cannot fail the others.
func (l *Ledger) runBatch(leaderCtx context.Context, batch []*request) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(leaderCtx), batchTimeout)
	defer cancel()
	live := make([]*request, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ops := make([]Op, len(live))
	for i, r := range live {
		ops[i] = r.op
	}
	errs, err := l.commit(ctx, ops)
	if err == nil {
		for i, r := range live {
			r.err = errs[i]
		}
		return
	}
	if len(live) == 1 {
		live[0].err = err
		return
	}
	l.stats.fallbacks.Add(1)
	for _, r := range live {
		errs, err := l.commit(ctx, []Op{r.op})
		if err == nil {
			err = errs[0]
		}
		r.err = err
	}
}

// commit runs ops in one transaction of their own and publishes their
// events after it committed.
func (l *Ledger) commit(ctx context.Context, ops []Op) ([]error, error) {
	var g *group
	var errs []error
	tries := 0
	err := l.inTx(ctx, func(tx *ent.Tx) error {
		var err error
		g, errs, err = l.apply(ctx, tx, 0, ops, tries > 0)
		tries++
		return err
	})
	if err != nil {
		return nil, err
	}
	l.stats.committed(len(ops))
	l.publish(g.events())
	for _, o := range ops {
		if c, ok := o.(committer); ok {
			c.committed()
		}
	}
	return errs, nil
}

// committer is an op that finishes its answer once its batch committed.
type committer interface{ committed() }

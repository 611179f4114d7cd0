// Command signup measures sign-up storms through linli's whole stack (HTTP,
// authentication, GraphQL, the seat ledger with its batched commits,
// PostgreSQL) against a bare Go program that sends one single SQL statement
// per sign-up straight to PostgreSQL (baseline.go), at the same
// concurrency, in the same run, rounds alternating between the two:
//
//   - one hot slot at 32 and at 128 clients,
//   - sign-ups spread over many slots (one activity each) at 32 clients,
//   - and, at idle, the median latency of sequential sign-ups.
//
// Each slot's capacity is half the sign-ups it gets, so every round fills
// a slot and queues the rest; after each round the counters and rows of
// every slot are checked: exactly the capacity confirmed (zero oversell),
// the counters equal to the rows.
//
//	go run ./bench/signup
//	go run ./bench/signup -rounds 5 -signups 4000
//
// It creates a scratch database on the PostgreSQL server of -postgres and
// drops it afterwards. Both sides get the same connection pool (-pool).
// linli is built as the server builds it (start.go).
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	_ "github.com/lib/pq"

	"linli/app"
	"linli/bench/load"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/linlitest"
	"linli/store"
	"linli/viewer"
)

// scenario is one kind of round.
type scenario struct {
	name    string
	clients int
	slots   int // 1: one hot slot
	goal    float64
}

func main() {
	admin := flag.String("postgres", linlitest.AdminURL(), "PostgreSQL server to create the scratch database on")
	rounds := flag.Int("rounds", 3, "measured rounds per side and scenario (after one warm-up)")
	signups := flag.Int("signups", 2000, "sign-ups per round")
	pool := flag.Int("pool", 32, "database connections for each side")
	spread := flag.Int("spread", 64, "slots (one activity each) of the spread scenario")
	idle := flag.Int("idle", 200, "sequential sign-ups for the idle latency")
	idleOnly := flag.Bool("idle-only", false, "measure only the idle latency")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		load.Check(err)
		load.Check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	dbURL, drop := load.ScratchDB(*admin, "linli_bench")
	load.Cleanup = drop
	b, err := setUp(ctx, dbURL, *pool, max(*signups, *idle))
	load.Check(err)
	load.Cleanup = func() { b.close(); drop() }
	defer load.Cleanup()

	scenarios := []scenario{
		{"hot slot", 32, 1, 1.0},
		{"hot slot", 128, 1, 1.5},
		{"spread", 32, *spread, 0.7},
	}
	fmt.Printf("sign-up storms: %d sign-ups per round (slots filled halfway), %d rounds, pool %d, GOMAXPROCS %d\n",
		*signups, *rounds, *pool, runtime.GOMAXPROCS(0))
	fmt.Printf("%-10s %8s %12s %12s %7s %6s\n", "scenario", "clients", "linli/s", "raw SQL/s", "ratio", "goal")
	if *idleOnly {
		scenarios = nil
	}
	for _, sc := range scenarios {
		var linli, raw []float64
		for r := 0; r <= *rounds; r++ {
			// Alternate which side goes first, so neither always runs on
			// the larger tables or the warmer cache.
			var l, w float64
			if r%2 == 0 {
				l = b.round(ctx, sc, *signups, b.linliSignUp)
				w = b.round(ctx, sc, *signups, b.rawSignUp)
			} else {
				w = b.round(ctx, sc, *signups, b.rawSignUp)
				l = b.round(ctx, sc, *signups, b.linliSignUp)
			}
			if r == 0 {
				continue // warm-up
			}
			linli, raw = append(linli, l), append(raw, w)
		}
		ml, mr := load.Median(linli), load.Median(raw)
		fmt.Printf("%-10s %8d %12.0f %12.0f %6.2f× %5.1f× %s\n", sc.name, sc.clients, ml, mr, ml/mr, sc.goal, verdict(ml/mr >= sc.goal))
	}
	st := b.app.Resolver.Ledger.Stats()
	fmt.Printf("ledger: %d sign-ups in %d transactions (mean batch %.1f, largest %d, %d fallbacks)\n",
		st.Ops, st.Batches, float64(st.Ops)/float64(max(st.Batches, 1)), st.MaxBatch, st.Fallbacks)

	// Idle: one sign-up at a time, alternating sides in blocks.
	var linliLat, rawLat []float64
	sl, _ := b.newSlots(ctx, 1, *idle*2)
	for i := 0; i < *idle; i++ {
		linliLat = append(linliLat, timed(func() (registration.Status, error) { return b.linliSignUp(ctx, sl[0], i) }))
		rawLat = append(rawLat, timed(func() (registration.Status, error) { return b.rawSignUp(ctx, sl[0], i+*idle) }))
	}
	pl, pr := load.Median(linliLat), load.Median(rawLat)
	fmt.Printf("idle: p50 of %d sequential sign-ups: linli %.2f ms, raw SQL %.2f ms (%.2f×)\n", *idle, pl, pr, pl/pr)
	fmt.Println("zero oversell in every round (checked after each)")
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "BELOW GOAL"
}

// timed runs one sign-up and returns its latency in milliseconds.
func timed(one func() (registration.Status, error)) float64 {
	start := time.Now()
	_, err := one()
	load.Check(err)
	return float64(time.Since(start).Microseconds()) / 1000
}

// round runs one storm of n sign-ups through signUp and checks its slots
// afterwards; it returns sign-ups answered per second.
func (b *bench) round(ctx context.Context, sc scenario, n int, signUp func(ctx context.Context, slotID, person int) (registration.Status, error)) float64 {
	perSlot := n / sc.slots
	slots, err := b.newSlots(ctx, sc.slots, perSlot/2)
	load.Check(err)
	rate, made, err := load.Storm(sc.clients, perSlot*sc.slots, func(_, i int) (bool, error) {
		st, err := signUp(ctx, slots[i%sc.slots], i)
		return st == registration.StatusCONFIRMED || st == registration.StatusWAITLISTED, err
	})
	load.Check(err)
	if made != perSlot*sc.slots {
		load.Check(fmt.Errorf("%s: only %d of %d sign-ups were made", sc.name, made, perSlot*sc.slots))
	}
	load.Check(b.check(ctx, slots, perSlot))
	return rate
}

// check verifies each slot after a round: exactly its capacity confirmed,
// everyone else waiting, the counters equal to the rows.
func (b *bench) check(ctx context.Context, slots []int, perSlot int) error {
	sys := viewer.System(ctx)
	c := b.app.DB.Client
	all, err := c.Slot.Query().Where(slot.IDIn(slots...)).All(sys)
	if err != nil {
		return err
	}
	for _, s := range all {
		confirmed, err := c.Registration.Query().Where(registration.SlotID(s.ID), registration.StatusEQ(registration.StatusCONFIRMED)).Count(sys)
		if err != nil {
			return err
		}
		waiting, err := c.Registration.Query().Where(registration.SlotID(s.ID), registration.StatusEQ(registration.StatusWAITLISTED)).Count(sys)
		if err != nil {
			return err
		}
		if confirmed != s.Capacity || s.Taken != confirmed || s.Waitlisted != waiting || confirmed+waiting != perSlot {
			return fmt.Errorf("slot %d: capacity %d, taken %d, waitlisted %d; rows: %d confirmed, %d waiting of %d",
				s.ID, s.Capacity, s.Taken, s.Waitlisted, confirmed, waiting, perSlot)
		}
	}
	return nil
}

// bench is linli running in-process over the scratch database, with the
// people who sign up, and a bare connection pool for the raw side.
type bench struct {
	app    *app.App
	url    string
	raw    *sql.DB
	cid    int
	people []int
	tokens []string
	close  func()
}

func setUp(ctx context.Context, dbURL string, pool, n int) (*bench, error) {
	a, srv, err := startApp(ctx, dbURL, pool)
	if err != nil {
		return nil, err
	}
	raw, err := sql.Open("postgres", dbURL)
	if err != nil {
		return nil, err
	}
	raw.SetMaxOpenConns(pool)
	raw.SetMaxIdleConns(pool)
	b := &bench{app: a, url: srv.URL + "/graphql", raw: raw}
	b.close = func() { srv.Close(); raw.Close(); a.Close() }
	sys := viewer.System(ctx)
	c, err := a.DB.Client.Community.Create().SetName("前进社区").SetTown("枞阳镇").SetCity("铜陵市").Save(sys)
	if err != nil {
		return nil, err
	}
	b.cid = c.ID
	people, tokens, err := linlitest.BulkPeople(sys, a.DB.Client, c.ID, n, "居民")
	if err != nil {
		return nil, err
	}
	for _, p := range people {
		b.people = append(b.people, p.ID)
	}
	b.tokens = tokens
	return b, nil
}

// newSlots creates n published activities with one slot of capacity each.
func (b *bench) newSlots(ctx context.Context, n, capacity int) ([]int, error) {
	sys := viewer.System(ctx)
	starts := time.Now().UTC().Add(72 * time.Hour)
	var ids []int
	for range n {
		act, err := b.app.DB.Client.Activity.Create().SetCommunityID(b.cid).SetTitle("广场演出").
			SetCategory("SQUARE").SetServiceType("CULTURE").SetStatus("PUBLISHED").
			SetStartsAt(starts).SetEndsAt(starts.Add(2 * time.Hour)).Save(sys)
		if err != nil {
			return nil, err
		}
		sl, err := b.app.DB.Client.Slot.Create().SetCommunityID(b.cid).SetActivityID(act.ID).
			SetName("座位").SetCapacity(capacity).Save(sys)
		if err != nil {
			return nil, err
		}
		ids = append(ids, sl.ID)
	}
	return ids, nil
}

const signUpMutation = `mutation($in: SignUpInput!) { signUp(input: $in) { outcome registration { id status } } }`

// linliSignUp signs person i up through the GraphQL HTTP API, with their
// own token.
func (b *bench) linliSignUp(_ context.Context, slotID, i int) (registration.Status, error) {
	res, err := linlitest.SendData(b.client(), b.url, b.tokens[i%len(b.tokens)], signUpMutation,
		map[string]any{"in": map[string]any{"slotID": b.app.IDs.Encode(slotID)}})
	if err != nil {
		return "", fmt.Errorf("sign-up failed: %w", err)
	}
	for _, st := range []registration.Status{registration.StatusCONFIRMED, registration.StatusWAITLISTED} {
		if strings.Contains(string(res), `"outcome":"`+string(st)+`"`) {
			return st, nil
		}
	}
	return "", fmt.Errorf("sign-up answered %s", res)
}

// rawSignUp sends the sign-up statement itself, as a bare program would,
// reads every column it returns, and sends it again when it made nothing
// because its snapshot was stale (as the statement's comment says).
func (b *bench) rawSignUp(ctx context.Context, slotID, i int) (registration.Status, error) {
	for range store.TxAttempts {
		st, err := b.rawOnce(ctx, slotID, i)
		if st != "" || err != nil {
			return st, err
		}
	}
	return "", fmt.Errorf("raw sign-up: no decision after %d attempts", store.TxAttempts)
}

func (b *bench) rawOnce(ctx context.Context, slotID, i int) (registration.Status, error) {
	status := 2 + slices.Index(registration.Columns, registration.FieldStatus)
	code := make([]byte, 16)
	_, _ = rand.Read(code)
	vals := make([]any, 2+len(registration.Columns))
	dest := make([]any, len(vals))
	for j := range vals {
		dest[j] = &vals[j]
	}
	err := b.raw.QueryRowContext(ctx, signUpCTE, slotID, time.Now().UTC(), 1, b.cid, false, false,
		base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(code),
		b.people[i%len(b.people)], "", []byte{}).Scan(dest...)
	if err != nil || vals[status] == nil {
		return "", err
	}
	return registration.Status(fmt.Sprintf("%s", vals[status])), nil
}

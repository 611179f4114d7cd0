// Command signup measures a sign-up storm on one slot, large enough never to
// fill, through linli's whole stack (HTTP, authentication, GraphQL, the
// sign-up service, PostgreSQL) against a bare Go program that sends the same
// single SQL statement straight to PostgreSQL, at the same concurrency, in
// the same run. It prints the median confirmed sign-ups per second of each
// over the rounds, and their ratio.
//
//	go run ./bench/signup                      # 32 and 128 clients, 5 rounds
//	go run ./bench/signup -clients 32 -rounds 9 -signups 4000
//
// It creates a scratch database on the PostgreSQL server of -postgres and
// drops it afterwards. Both sides get the same connection pool (-pool), and
// rounds alternate between them so a noisy neighbour hurts both alike.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/lib/pq"

	"linli/app"
	"linli/bench/load"
	"linli/ent/registration"
	"linli/ledger"
	"linli/linlitest"
	"linli/store"
	"linli/viewer"
)

func main() {
	admin := flag.String("postgres", linlitest.AdminURL(), "PostgreSQL server to create the scratch database on")
	clientList := flag.String("clients", "32,128", "concurrent clients, comma-separated")
	rounds := flag.Int("rounds", 5, "measured rounds per side and concurrency (after one warm-up)")
	signups := flag.Int("signups", 3000, "sign-ups per round")
	pool := flag.Int("pool", 32, "database connections for each side")
	tx := flag.Bool("tx", false, "also measure the stack with the sign-up as a transaction instead of one statement")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		load.Check(err)
		load.Check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	var clients []int
	for _, c := range strings.Split(*clientList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			log.Fatalf("bad -clients %q", *clientList)
		}
		clients = append(clients, n)
	}
	ctx := context.Background()
	dbURL, drop := load.ScratchDB(*admin, "linli_bench")
	load.Cleanup = drop
	b, err := setUp(ctx, dbURL, *pool, *signups)
	load.Check(err)
	load.Cleanup = func() { b.close(); drop() }
	defer load.Cleanup()

	fmt.Printf("sign-up storm: %d sign-ups per round, %d rounds, pool %d, GOMAXPROCS %d\n",
		*signups, *rounds, *pool, runtimeProcs())
	fmt.Printf("%8s %14s %14s %7s", "clients", "stack/s", "raw SQL/s", "ratio")
	if *tx {
		fmt.Printf(" %14s %7s", "stack(tx)/s", "ratio")
	}
	fmt.Println()
	for _, c := range clients {
		var stack, raw, stackTx []float64
		for r := 0; r <= *rounds; r++ {
			// Alternate which side goes first, so neither always runs on
			// the larger tables or the warmer cache.
			var s, w float64
			if r%2 == 0 {
				s, err = b.stackRound(ctx, c, true)
				load.Check(err)
				w, err = b.rawRound(ctx, c)
			} else {
				w, err = b.rawRound(ctx, c)
				load.Check(err)
				s, err = b.stackRound(ctx, c, true)
			}
			load.Check(err)
			var t float64
			if *tx {
				t, err = b.stackRound(ctx, c, false)
				load.Check(err)
			}
			if r == 0 {
				continue // warm-up
			}
			stack, raw, stackTx = append(stack, s), append(raw, w), append(stackTx, t)
		}
		ms, mr := store.Median(stack), store.Median(raw)
		fmt.Printf("%8d %14.0f %14.0f %7.2f", c, ms, mr, ms/mr)
		if *tx {
			mt := store.Median(stackTx)
			fmt.Printf(" %14.0f %7.2f", mt, mt/mr)
		}
		fmt.Println()
	}
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
	cfg := app.DefaultConfig()
	cfg.DatabaseURL = dbURL
	cfg.RateLimitPerMinute = 0
	cfg.RequestTimeout = time.Minute
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Store.MaxOpenConns = pool
	a, err := app.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	srv := newServer(a.Handler())
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

// newSlot creates a published activity whose one slot never fills.
func (b *bench) newSlot(ctx context.Context) (activityID, slotID int, err error) {
	sys := viewer.System(ctx)
	starts := time.Now().UTC().Add(72 * time.Hour)
	act, err := b.app.DB.Client.Activity.Create().SetCommunityID(b.cid).SetTitle("广场演出").
		SetCategory("SQUARE").SetServiceType("CULTURE").SetStatus("PUBLISHED").
		SetStartsAt(starts).SetEndsAt(starts.Add(2 * time.Hour)).Save(sys)
	if err != nil {
		return 0, 0, err
	}
	sl, err := b.app.DB.Client.Slot.Create().SetCommunityID(b.cid).SetActivityID(act.ID).
		SetName("座位").SetCapacity(ledger.MaxCapacity).Save(sys)
	if err != nil {
		return 0, 0, err
	}
	return act.ID, sl.ID, nil
}

const signUpMutation = `mutation($in: SignUpInput!) { signUp(input: $in) { outcome registration { id status } } }`

// stackRound signs every person up through the GraphQL HTTP API.
func (b *bench) stackRound(ctx context.Context, clients int, singleStatement bool) (float64, error) {
	_, slotID, err := b.newSlot(ctx)
	if err != nil {
		return 0, err
	}
	_ = singleStatement
	hc := linlitest.ConcurrentClient(clients)
	defer hc.CloseIdleConnections()
	return storm(clients, len(b.people), func(i int) (bool, error) {
		res, err := linlitest.SendData(hc, b.url, b.tokens[i], signUpMutation, map[string]any{"in": map[string]any{"slotID": b.app.IDs.Encode(slotID)}})
		if err != nil {
			return false, fmt.Errorf("sign-up failed: %w", err)
		}
		return strings.Contains(string(res), `"outcome":"CONFIRMED"`), nil
	})
}

// rawRound sends the sign-up statement itself, as a bare program would.
func (b *bench) rawRound(ctx context.Context, clients int) (float64, error) {
	_, slotID, err := b.newSlot(ctx)
	if err != nil {
		return 0, err
	}
	q := signUpCTE
	// The statement returns the activity, whether the slot is full, and the
	// registration's columns; a bare program reads them all.
	status := 2 + slices.Index(registration.Columns, registration.FieldStatus)
	return storm(clients, len(b.people), func(i int) (bool, error) {
		code := make([]byte, 16)
		_, _ = rand.Read(code)
		vals := make([]any, 2+len(registration.Columns))
		dest := make([]any, len(vals))
		for j := range vals {
			dest[j] = &vals[j]
		}
		err := b.raw.QueryRowContext(ctx, q, slotID, time.Now().UTC(), 1, b.cid, false, false,
			base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(code),
			b.people[i], "", []byte{}).Scan(dest...)
		return fmt.Sprintf("%s", vals[status]) == "CONFIRMED", err
	})
}

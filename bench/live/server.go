package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"linli/app"
)

// runServer is the child process: a linli replica on one port and the bare
// broadcaster (with the memory probe) on another. It exits when its stdin
// closes, i.e. when the parent goes away.
func runServer(dbURL string) error {
	ctx := context.Background()
	// Built as the server builds it (app.Start), from operator flags.
	args := []string{"-database-url", dbURL, "-demo=false", "-log-level", "warn", "-login-rate", "0", "-db-max-conns", "16",
		// Every simulated phone uses the same token; real ones have their own.
		"-max-connections-per-person", "-1"}
	a, err := app.Start(ctx, args)
	if err != nil {
		return err
	}
	defer a.Close()
	linliLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	bareLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = (&http.Server{Handler: a.Handler()}).Serve(linliLn) }()
	b := &bare{conns: map[*websocket.Conn]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", b.accept)
	mux.HandleFunc("POST /send", b.send)
	mux.HandleFunc("GET /mem", memProbe)
	go func() { _ = (&http.Server{Handler: mux}).Serve(bareLn) }()
	if dir := os.Getenv("LINLI_BENCH_PROFILE"); dir != "" {
		// Profiles of the server side, for finding where time and memory go.
		f, err := os.Create(filepath.Join(dir, "server-cpu.pprof"))
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
		profileDir = dir
		if os.Getenv("LINLI_BENCH_MEMPROFILERATE") != "" {
			runtime.MemProfileRate, _ = strconv.Atoi(os.Getenv("LINLI_BENCH_MEMPROFILERATE"))
		}
	}
	fmt.Printf("READY http://%s http://%s\n", linliLn.Addr(), bareLn.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

var (
	profileDir string
	heapSeq    int
)

// bare is the baseline: gorilla/websocket with nothing in between. Each
// socket has a reader goroutine (to notice closes and answer pings), and a
// broadcast frames the payload once and writes it to every socket in turn.
type bare struct {
	mu    sync.Mutex
	conns map[*websocket.Conn]struct{}
}

var bareUpgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (b *bare) accept(w http.ResponseWriter, r *http.Request) {
	c, err := bareUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	b.mu.Lock()
	b.conns[c] = struct{}{}
	b.mu.Unlock()
	go func() {
		for {
			if _, _, err := c.NextReader(); err != nil {
				break
			}
		}
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
		c.Close()
	}()
}

func (b *bare) send(w http.ResponseWriter, r *http.Request) {
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, payload)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b.mu.Lock()
	conns := make([]*websocket.Conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	deadline := time.Now().Add(10 * time.Second)
	for _, c := range conns {
		_ = c.SetWriteDeadline(deadline)
		_ = c.WritePreparedMessage(pm)
	}
}

// memStats is the server's memory after a full collection.
type memStats struct {
	HeapAlloc, HeapInuse, StackInuse, RSS uint64
	Goroutines                            int
}

// live is what the objects and stacks of the server take after a full
// collection (HeapInuse would add the fragmentation left by connecting).
func (m memStats) live() uint64 { return m.HeapAlloc + m.StackInuse }

func memProbe(w http.ResponseWriter, _ *http.Request) {
	runtime.GC()
	runtime.GC()
	if profileDir != "" {
		heapSeq++
		if f, err := os.Create(filepath.Join(profileDir, fmt.Sprintf("server-heap-%d.pprof", heapSeq))); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
		if f, err := os.Create(filepath.Join(profileDir, fmt.Sprintf("server-goroutine-%d.txt", heapSeq))); err == nil {
			_ = pprof.Lookup("goroutine").WriteTo(f, 1)
			f.Close()
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	_ = json.NewEncoder(w).Encode(memStats{
		HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse,
		RSS: rss(), Goroutines: runtime.NumGoroutine(),
	})
}

// rss reads the resident set size from /proc (0 where there is none).
func rss() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

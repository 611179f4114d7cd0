// Command loginflood replays the junk-phone login attack of issue 9 against
// linli and reports what it cost the server: login requests whose phone is
// a ~250 KB string (every one different), sent by a few concurrent clients,
// while a probe times GET /healthz. It reads the server's resident memory
// (VmRSS, and the peak VmHWM) from /proc before and after.
//
// By default it starts linli in this process, built as server builds it
// (load.Start) on a fresh SQLite file, with the server's flags given in
// -server-flags (the login rate limit stays on, as deployed); the memory
// read is then this process's, the clients' few buffers included. Or point
// it at a running server:
//
//	go run ./bench/loginflood                                  # in-process
//	go run ./server -database-url /tmp/flood.db &              # a fresh SQLite file
//	go run ./bench/loginflood -url http://localhost:8080 -pid $(pgrep -n server)
//
// It is a measurement tool, not a test: it asserts nothing.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"linli/bench/load"
)

func main() {
	url := flag.String("url", "", "a running linli's base URL (empty: start linli in this process)")
	serverFlags := flag.String("server-flags", "", "the server's flags for the linli started in this process (space-separated, e.g. \"-login-rate 0\")")
	pid := flag.Int("pid", 0, "server process id, to read its memory from /proc (0: skip; this process when linli runs in it)")
	n := flag.Int("requests", 2000, "login requests to send")
	clients := flag.Int("clients", 8, "concurrent clients")
	size := flag.Int("phone-bytes", 250<<10, "length of each junk phone")
	flag.Parse()
	if *url == "" {
		var stop func()
		*url, stop = inProcess(strings.Fields(*serverFlags))
		defer stop()
		*pid = os.Getpid()
	}

	fmt.Printf("before: %s, healthz %s\n", memory(*pid), healthz(*url))
	done := make(chan struct{})
	probes := probe(*url, done)
	elapsed, answers := flood(*url, *n, *clients, *size)
	close(done)
	ps := <-probes
	fmt.Printf("sent %d logins with %d-byte phones in %s: %s\n", *n, *size, elapsed.Round(time.Millisecond), strings.Join(answers, " "))
	if len(ps) > 0 {
		fmt.Printf("healthz during the attack: %d probes, median %s, p90 %s, max %s\n", len(ps),
			ps[len(ps)/2].Round(time.Microsecond), ps[len(ps)*9/10].Round(time.Microsecond), ps[len(ps)-1].Round(time.Microsecond))
	}
	fmt.Printf("after: %s, healthz %s\n", memory(*pid), healthz(*url))
}

// probe times /healthz every 100 ms until done closes, then sends the
// times, sorted.
func probe(url string, done <-chan struct{}) <-chan []time.Duration {
	out := make(chan []time.Duration, 1)
	go func() {
		var probes []time.Duration
		for {
			select {
			case <-done:
				slices.Sort(probes)
				out <- probes
				return
			case <-time.After(100 * time.Millisecond):
				probes = append(probes, healthzTime(url))
			}
		}
	}()
	return out
}

// flood sends n logins with junk phones of size bytes from clients
// goroutines and returns how long it took and the answers' codes, counted.
func flood(url string, n, clients, size int) (time.Duration, []string) {
	var (
		sent  atomic.Int64
		codes sync.Map
		wg    sync.WaitGroup
	)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := sent.Add(1)
				if i > int64(n) {
					return
				}
				code := login(url, junkPhone(i, size))
				v, _ := codes.LoadOrStore(code, new(atomic.Int64))
				v.(*atomic.Int64).Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	answers := []string{}
	codes.Range(func(k, v any) bool {
		answers = append(answers, fmt.Sprintf("%s×%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	slices.Sort(answers)
	return elapsed, answers
}

// inProcess starts linli here, as server builds it, on a fresh SQLite file
// and returns its URL.
func inProcess(flags []string) (string, func()) {
	dir, err := os.MkdirTemp("", "loginflood")
	if err != nil {
		log.Fatal(err)
	}
	load.Cleanup = func() { os.RemoveAll(dir) }
	a := load.Start(context.Background(), append([]string{"-database-url", filepath.Join(dir, "flood.db")}, flags...)...)
	srv := httptest.NewServer(a.Handler())
	return srv.URL, func() {
		srv.Close()
		a.Close()
		os.RemoveAll(dir)
	}
}

// junkPhone is a different string for every request (digits and letters, so
// it is no phone number).
func junkPhone(i int64, size int) string {
	prefix := fmt.Sprintf("%d-", i)
	return prefix + strings.Repeat("9x", (size-len(prefix))/2)
}

func login(url, phone string) string {
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($p: String!) { login(input: {phone: $p, password: "whatever-password"}) { token } }`,
		"variables": map[string]any{"p": phone},
	})
	resp, err := http.Post(url+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return "transport-error"
	}
	defer resp.Body.Close()
	var out struct {
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	raw, _ := io.ReadAll(resp.Body)
	if json.Unmarshal(raw, &out) != nil || len(out.Errors) == 0 {
		return fmt.Sprintf("http-%d", resp.StatusCode)
	}
	return out.Errors[0].Extensions.Code
}

func healthzTime(url string) time.Duration {
	t := time.Now()
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		log.Printf("healthz: %v", err)
		return time.Since(t)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return time.Since(t)
}

func healthz(url string) string { return healthzTime(url).Round(time.Microsecond).String() }

func memory(pid int) string {
	if pid == 0 {
		return "memory not read (no -pid)"
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return err.Error()
	}
	var rss, hwm string
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rss = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			hwm = strings.TrimSpace(v)
		}
	}
	return fmt.Sprintf("RSS %s (peak %s)", rss, hwm)
}

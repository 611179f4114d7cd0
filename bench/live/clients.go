package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// client is one subscriber socket and what it received when.
type client struct {
	conn *websocket.Conn
	seen atomic.Int64 // highest version received

	mu   sync.Mutex
	recv []receipt
}

type receipt struct{ version, at int64 }

const countsQuery = `subscription($id: ID!) { activityCounts(activityID: $id) { activityID version slots { slotID capacity taken waitlisted checkedIn } } }`

// connectAll opens n subscribers, 32 at a time; for linli each has
// completed connection_init and received its first snapshot.
func (b *bench) connectAll(n int, linli bool) ([]*client, error) {
	clients := make([]*client, n)
	errs := make(chan error, n)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				c, err := b.dial(linli)
				if err != nil {
					errs <- err
					continue
				}
				clients[i] = c
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	var live []*client
	for _, c := range clients {
		if c != nil {
			live = append(live, c)
		}
	}
	if err := <-errs; err != nil {
		return live, fmt.Errorf("connect %d subscribers: %w", n, err)
	}
	return live, nil
}

func (b *bench) dial(linli bool) (*client, error) {
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second}
	if !linli {
		conn, _, err := d.Dial(wsAddr(b.bareURL)+"/ws", nil)
		if err != nil {
			return nil, err
		}
		return &client{conn: conn}, nil
	}
	d.Subprotocols = []string{"graphql-transport-ws"}
	conn, _, err := d.Dial(wsAddr(b.linliURL)+"/graphql", http.Header{})
	if err != nil {
		return nil, err
	}
	c := &client{conn: conn}
	fail := func(err error) (*client, error) { conn.Close(); return nil, err }
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if err := conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]string{"authToken": b.token}}); err != nil {
		return fail(err)
	}
	var ack struct{ Type string }
	if err := conn.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		return fail(fmt.Errorf("connection_init: %q %v", ack.Type, err))
	}
	if err := conn.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": countsQuery, "variables": map[string]any{"id": b.writer.IDs.Encode(b.activity.ID)},
	}}); err != nil {
		return fail(err)
	}
	_, msg, err := conn.ReadMessage()
	if err != nil {
		return fail(err)
	}
	v := versionOf(msg)
	if v < 0 {
		var m json.RawMessage = msg
		return fail(fmt.Errorf("first message is no snapshot: %s", m))
	}
	c.seen.Store(v)
	_ = conn.SetReadDeadline(time.Time{})
	return c, nil
}

func wsAddr(httpURL string) string { return "ws" + strings.TrimPrefix(httpURL, "http") }

// readLoop records every snapshot's version and arrival until the socket closes.
func (c *client) readLoop() {
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		at := time.Now().UnixNano()
		v := versionOf(msg)
		if v < 0 {
			continue
		}
		c.mu.Lock()
		c.recv = append(c.recv, receipt{v, at})
		c.mu.Unlock()
		if v > c.seen.Load() {
			c.seen.Store(v)
		}
	}
}

func (c *client) waitFor(v int64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for c.seen.Load() < v {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// latencies appends, for each committed version, the time from its commit
// to the first message this client received showing it (or a later one).
func (c *client) latencies(versions []int64, commits map[int64]int64, out []time.Duration) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := 0
	for _, v := range versions {
		for i < len(c.recv) && c.recv[i].version < v {
			i++
		}
		if i == len(c.recv) {
			break
		}
		out = append(out, time.Duration(c.recv[i].at-commits[v]))
	}
	return out
}

var versionKey = []byte(`"version":`)

// versionOf finds the version in a snapshot message without decoding it all
// (the clients share the machine with the servers), or -1.
func versionOf(msg []byte) int64 {
	i := bytes.Index(msg, versionKey)
	if i < 0 {
		return -1
	}
	var v int64
	j := i + len(versionKey)
	if j >= len(msg) || msg[j] < '0' || msg[j] > '9' {
		return -1
	}
	for ; j < len(msg) && msg[j] >= '0' && msg[j] <= '9'; j++ {
		v = v*10 + int64(msg[j]-'0')
	}
	return v
}

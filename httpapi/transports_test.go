package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"linli/app"
	"linli/linlitest"
	"linli/viewer"
)

// Every transport (POST, GET, SSE, websocket) is held to the same body limit,
// read deadline and operation timeout; a body that does not decode is
// answered without being echoed.

// captureLogs sends the app's logs, and what the standard library's log
// package prints (gqlgen's transports log through it), to one collector.
func captureLogs(t *testing.T) (*linlitest.Logs, linlitest.Option) {
	logs, logTo := linlitest.CaptureLogs()
	prev := log.Writer()
	log.SetOutput(logs)
	t.Cleanup(func() { log.SetOutput(prev) })
	return logs, logTo
}

func sseRequest(t *testing.T, e *linlitest.Env, token string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// padded is a JSON body of about n bytes, produced as it is read.
func padded(n int64) io.Reader {
	return io.MultiReader(strings.NewReader(`{"query": "{ __typename }", "variables": {"pad": "`),
		io.LimitReader(repeatByte('x'), n), strings.NewReader(`"}}`))
}

type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestSSEBodyIsBounded(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		for _, announced := range []bool{true, false} {
			t.Run(fmt.Sprintf("length announced %v", announced), func(t *testing.T) {
				const size = 64 << 20
				req := sseRequest(t, e, "", padded(size))
				if announced {
					req.ContentLength = size + 60
				}
				before := e.Statements.Load()
				resp, err := e.Server.Client().Do(req)
				if err != nil {
					t.Fatalf("POST: %v", err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusRequestEntityTooLarge {
					t.Fatalf("status %d, want 413: %.200s", resp.StatusCode, b)
				}
				var res linlitest.Result
				if err := json.Unmarshal(b, &res); err != nil {
					t.Fatalf("not JSON: %.200s", b)
				}
				res.WantCode(t, "VALIDATION_FAILED")
				if n := e.Statements.Load() - before; n != 0 {
					t.Errorf("refused body ran %d statements", n)
				}
			})
		}
	})
}

func TestSSEMalformedBodyIsNotEchoed(t *testing.T) {
	sink, logTo := captureLogs(t)
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		const marker = "SECRET-BODY-MARKER"
		for _, body := range []string{
			`{"query": "{ __typename }", "variables": {"x": "` + marker,
			`["` + marker + `"]`,
		} {
			resp, err := e.Server.Client().Do(sseRequest(t, e, "", strings.NewReader(body)))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400: %.200s", resp.StatusCode, b)
			}
			var res linlitest.Result
			if err := json.Unmarshal(b, &res); err != nil {
				t.Fatalf("not JSON: %.200s", b)
			}
			res.WantCode(t, "VALIDATION_FAILED")
			if bytes.Contains(b, []byte(marker)) {
				t.Errorf("the answer echoes the body: %.300s", b)
			}
		}
		if strings.Contains(sink.String(), marker) {
			t.Errorf("the log echoes the body: %.500s", sink.String())
		}
	}, logTo)
}

// A body that trickles in is cut off at the read deadline on every HTTP
// path: the server answers 408 and closes the connection.
func TestTricklingBodyIsCutOff(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		for _, accept := range []string{"application/json", "text/event-stream"} {
			t.Run(accept, func(t *testing.T) {
				conn, err := net.Dial("tcp", e.Server.Listener.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nAccept: %s\r\nContent-Length: 1000\r\n\r\n{\"query\": ", accept)
				// The client sends nothing more: the server must not wait
				// for it. The bound is a stall detector, far above the
				// configured deadline.
				_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatalf("no answer to a stalled body: %v", err)
				}
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusRequestTimeout {
					t.Errorf("status %d, want 408: %.200s", resp.StatusCode, b)
				}
				var res linlitest.Result
				if err := json.Unmarshal(b, &res); err == nil {
					res.WantCode(t, "TIMEOUT")
				} else {
					t.Errorf("not JSON: %.200s", b)
				}
				if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
					t.Errorf("connection still open after the answer (read: %v)", err)
				}
			})
		}
	}, func(c *app.Config) { c.BodyTimeout = 200 * time.Millisecond })
}

// A query or mutation past its deadline answers TIMEOUT whatever transport
// carries it. A deadline of a nanosecond makes every query slower than its
// deadline.
func TestQueriesTimeOutOnEveryTransport(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "李娜", viewer.Resident)
		const q = `{ communities { id name } }`
		check := func(t *testing.T, res *linlitest.Result) {
			t.Helper()
			res.WantCode(t, "TIMEOUT")
		}
		// Anonymous over HTTP: checking a token is bounded by the same
		// deadline. The socket's token is checked at connection_init.
		t.Run("POST", func(t *testing.T) { check(t, e.Do(t, "", q, nil)) })
		t.Run("GET", func(t *testing.T) {
			res, _ := getQuery(q, "").do(t, e)
			check(t, res)
		})
		t.Run("SSE", func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"query": q})
			resp, err := e.Server.Client().Do(sseRequest(t, e, "", bytes.NewReader(body)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			check(t, firstSSEEvent(t, resp.Body))
		})
		t.Run("websocket", func(t *testing.T) {
			check(t, websocketQuery(t, e, tok, q))
		})
	}, func(c *app.Config) { c.RequestTimeout = time.Nanosecond })
}

// firstSSEEvent reads the data of the first "next" event of a stream.
func firstSSEEvent(t *testing.T, r io.Reader) *linlitest.Result {
	t.Helper()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			res := &linlitest.Result{}
			if err := json.Unmarshal([]byte(data), res); err != nil {
				t.Fatalf("event data is not JSON: %.200s", data)
			}
			return res
		}
	}
	t.Fatalf("stream ended without an event: %v", sc.Err())
	return nil
}

// websocketQuery runs one query over graphql-transport-ws.
func websocketQuery(t *testing.T, e *linlitest.Env, token, query string) *linlitest.Result {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(e.Server.URL, "http")+"/graphql", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	type msg struct {
		ID      string          `json:"id,omitempty"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload,omitempty"`
	}
	init, _ := json.Marshal(map[string]string{"authToken": token})
	sub, _ := json.Marshal(map[string]any{"query": query})
	for _, m := range []msg{{Type: "connection_init", Payload: init}, {ID: "1", Type: "subscribe", Payload: sub}} {
		if err := c.WriteJSON(m); err != nil {
			t.Fatal(err)
		}
	}
	for {
		var m msg
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("read: %v", err)
		}
		switch m.Type {
		case "next":
			res := &linlitest.Result{}
			if err := json.Unmarshal(m.Payload, res); err != nil {
				t.Fatal(err)
			}
			return res
		case "error":
			res := &linlitest.Result{}
			if err := json.Unmarshal(m.Payload, &res.Errors); err != nil {
				t.Fatal(err)
			}
			return res
		}
	}
}

// The read deadline bounds the body only: an SSE stream opened with a body
// that arrived in time lives on past it.
func TestSSEStreamOutlivesTheBodyDeadline(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, tok := e.Person(t, c.ID, "李娜", viewer.Resident)
		_, other := e.Person(t, c.ID, "王芳", viewer.Resident)
		a, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{})
		body, _ := json.Marshal(map[string]any{
			"query":     `subscription($id: ID!) { activityCounts(activityID: $id) { slots { taken } } }`,
			"variables": map[string]any{"id": linlitest.ID(a.ID)},
		})
		resp, err := e.Server.Client().Do(sseRequest(t, e, tok, bytes.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		events := make(chan string, 4)
		go func() {
			defer close(events)
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
					events <- d
				}
			}
		}()
		next := func() string {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatal("the stream ended")
				}
				return ev
			case <-time.After(5 * time.Second):
				t.Fatal("no event")
			}
			return ""
		}
		next() // the snapshot
		time.Sleep(600 * time.Millisecond)
		res := e.Do(t, other, `mutation($s: ID!) { signUp(input: {slotID: $s}) { outcome } }`, map[string]any{"s": linlitest.ID(slots[0].ID)})
		if len(res.Errors) > 0 {
			t.Fatalf("signUp: %+v", res.Errors)
		}
		if ev := next(); !strings.Contains(ev, `"taken":1`) {
			t.Fatalf("event after the sign-up: %s", ev)
		}
	}, func(c *app.Config) { c.BodyTimeout = 200 * time.Millisecond })
}

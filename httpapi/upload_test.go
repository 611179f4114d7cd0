package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"linli/app"
	"linli/linlitest"
	"linli/viewer"
)

const importSheet = `mutation($file: Upload!) { importSpreadsheet(kind: HOUSEHOLDS, file: $file, dryRun: true) { rows created } }`

// multipartBody is an upload request's body: operations, map, then a file
// of size bytes (a CSV: a header, then rows).
func multipartBody(size int) (body []byte, contentType string) {
	ops, _ := json.Marshal(map[string]any{"query": importSheet, "variables": map[string]any{"file": nil}})
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0": ["variables.file"]}`)
	fw, _ := mw.CreateFormFile("0", "households.csv")
	file := []byte("地址,户主\n1栋101,王\n")
	if pad := size - len(file); pad > 0 {
		file = append(file, bytes.Repeat([]byte("#"), pad)...)
	}
	_, _ = fw.Write(file)
	_ = mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

// countingBody counts the bytes the server reads of a request body.
type countingBody struct {
	r    io.Reader
	read atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *countingBody) Close() error { return nil }

// Who may send an upload is decided before its body is read: an anonymous
// request, a bad token and a signed-in non-staff person are refused having
// read nothing of a 4 MB body; staff's upload is read and runs.
func TestUploadRefusedBeforeItsBodyIsRead(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, resident := e.Person(t, c.ID, "居民")
		_, leader := e.Person(t, c.ID, "队长", viewer.TeamLeader, viewer.Volunteer)
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		body, contentType := multipartBody(4 << 20)
		for _, tc := range []struct {
			name, auth string
			status     int
			code       string
		}{
			{"anonymous", "", http.StatusUnauthorized, "UNAUTHENTICATED"},
			{"a bad token", "Bearer nonsense", http.StatusUnauthorized, "UNAUTHENTICATED"},
			{"a resident", "Bearer " + resident, http.StatusForbidden, "FORBIDDEN"},
			{"a team leader", "Bearer " + leader, http.StatusForbidden, "FORBIDDEN"},
		} {
			cb := &countingBody{r: bytes.NewReader(body)}
			req := httptest.NewRequest(http.MethodPost, "/graphql", cb)
			req.Header.Set("Content-Type", contentType)
			req.ContentLength = int64(len(body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			e.App.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), `"code":"`+tc.code+`"`) {
				t.Fatalf("%s: %d %s, want %d %s", tc.name, rec.Code, rec.Body, tc.status, tc.code)
			}
			if n := cb.read.Load(); n > 4<<10 {
				t.Fatalf("%s: the server read %d bytes of the body before refusing it", tc.name, n)
			}
		}
		// Staff's upload is read (once) and runs.
		small, contentType := multipartBody(0)
		cb := &countingBody{r: bytes.NewReader(small)}
		req := httptest.NewRequest(http.MethodPost, "/graphql", cb)
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+coord)
		rec := httptest.NewRecorder()
		e.App.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"rows":1`) {
			t.Fatalf("staff upload: %d %s", rec.Code, rec.Body)
		}
		if cb.read.Load() != int64(len(small)) {
			t.Fatalf("staff upload: read %d of %d bytes", cb.read.Load(), len(small))
		}
	})
}

// rawUpload opens a TCP connection and sends an upload's headers and the
// first sent bytes of its body (announcing all of it), leaving the rest
// unsent: a stalled upload.
func rawUpload(t *testing.T, serverURL, token string, body []byte, contentType string, sent int) net.Conn {
	t.Helper()
	u, _ := url.Parse(serverURL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n", u.Host, contentType, len(body))
	if token != "" {
		fmt.Fprintf(conn, "Authorization: Bearer %s\r\n", token)
	}
	fmt.Fprint(conn, "\r\n")
	if _, err := conn.Write(body[:sent]); err != nil {
		t.Fatal(err)
	}
	return conn
}

// answer reads the response on a raw connection, within d.
func answer(t *testing.T, conn net.Conn, d time.Duration) (*http.Response, string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer within %v: %v", d, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// Over real connections: an anonymous upload is answered 401 at once,
// while its body has not been sent (today's stalled anonymous uploads each
// held their body, up to -max-upload-bytes, until the body deadline); and
// one address holds at most -max-uploads-per-address upload bodies in
// flight: one more is 429 RATE_LIMITED until one of them ends.
func TestStalledUploadsBoundedPerAddress(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "社工", viewer.Coordinator)
		body, contentType := multipartBody(1 << 20)

		conn := rawUpload(t, e.Server.URL, "", body, contentType, 0)
		if resp, raw := answer(t, conn, 3*time.Second); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(raw, "UNAUTHENTICATED") {
			t.Fatalf("stalled anonymous upload: %d %s", resp.StatusCode, raw)
		}

		// Two staff uploads stall halfway through their file.
		stalled := []net.Conn{
			rawUpload(t, e.Server.URL, coord, body, contentType, 600),
			rawUpload(t, e.Server.URL, coord, body, contentType, 600),
		}
		// A third from the same address is refused once both are in flight.
		// The probe is a stalled upload too (one let in takes a slot only
		// while it is open); under load a stalled upload may be refused
		// because a probe got in first: it is then opened again.
		refusedAtOnce := func(c net.Conn, d time.Duration) (bool, string) {
			_ = c.SetReadDeadline(time.Now().Add(d))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				return false, ""
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode == http.StatusTooManyRequests, string(b)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			probe := rawUpload(t, e.Server.URL, coord, body, contentType, 600)
			refused, raw := refusedAtOnce(probe, 500*time.Millisecond)
			probe.Close()
			if refused && !strings.Contains(raw, `"code":"RATE_LIMITED"`) {
				t.Fatalf("the third upload: %s", raw)
			}
			reopened := false
			for i, c := range stalled {
				if refused, _ := refusedAtOnce(c, 50*time.Millisecond); refused {
					c.Close()
					stalled[i] = rawUpload(t, e.Server.URL, coord, body, contentType, 600)
					reopened = true
				}
			}
			if refused && !reopened {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("with two uploads stalled, a third from the same address was let in, want 429 RATE_LIMITED")
			}
			time.Sleep(100 * time.Millisecond) // the closed probe's slot is freed
		}
		small, smallType := multipartBody(0)
		send := func() (int, string) {
			req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", bytes.NewReader(small))
			req.Header.Set("Content-Type", smallType)
			req.Header.Set("Authorization", "Bearer "+coord)
			status, _, raw := roundTrip(t, e, req)
			return status, raw
		}
		// One stalled upload gives up: its slot is free again.
		stalled[0].Close()
		deadline = time.Now().Add(30 * time.Second)
		for {
			status, raw := send()
			if status == http.StatusOK && strings.Contains(raw, `"rows":1`) {
				break
			}
			if status != http.StatusTooManyRequests || time.Now().After(deadline) {
				t.Fatalf("after one stalled upload ended: %d %s", status, raw)
			}
			time.Sleep(20 * time.Millisecond)
		}
		// The other finishes sending and runs.
		if _, err := stalled[1].Write(body[600:]); err != nil {
			t.Fatal(err)
		}
		if resp, raw := answer(t, stalled[1], 10*time.Second); resp.StatusCode != http.StatusOK || !strings.Contains(raw, `"importSpreadsheet"`) {
			t.Fatalf("the stalled upload, completed: %d %s", resp.StatusCode, raw)
		}
	}, func(c *app.Config) { c.GraphQL.MaxUploadsPerAddress, c.BodyTimeout = 2, time.Minute })
}

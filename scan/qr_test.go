package scan_test

import (
	"bytes"
	"image/png"
	"net/http"
	"strconv"
	"testing"

	"github.com/skip2/go-qrcode"

	"linli/linlitest"
	"linli/viewer"
)

// GET /qr/{registrationID} draws the check-in code for those who may read
// it (owner, staff) and is a 404 for everyone else; a rotated code gives a
// new image.
func TestQRImage(t *testing.T) {
	linlitest.Run(t, testQRImage)
}

func testQRImage(t *testing.T, e *linlitest.Env) {
	s := newSite(t, e, "前进社区")
	m := s.member(t, "张三")
	r := s.signUp(t, m, s.seats, 1)
	get := func(token, path string) (int, string, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.e.Server.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := s.e.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		if _, err := b.ReadFrom(resp.Body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), b.Bytes()
	}
	path := "/qr/" + linlitest.ID(r.ID)

	// The image is the code, drawn at the size asked for.
	for _, tc := range []struct {
		token string
		size  int
		query string
	}{{m.token, 256, ""}, {s.staff, 512, "?size=512"}} {
		status, media, body := get(tc.token, path+tc.query)
		if status != http.StatusOK || media != "image/png" {
			t.Fatalf("GET %s%s: %d %s %.100s", path, tc.query, status, media, body)
		}
		img, err := png.Decode(bytes.NewReader(body))
		if err != nil || img.Bounds().Dx() != tc.size {
			t.Fatalf("not a %d px PNG: %v %v", tc.size, err, img)
		}
		want, _ := qrcode.Encode(r.Code, qrcode.Medium, tc.size)
		if !bytes.Equal(body, want) {
			t.Fatal("the image does not encode the registration's check-in code")
		}
	}

	// Nobody else: a neighbour, a kiosk, another community's coordinator.
	other := newSite(t, s.e, "红旗社区")
	for who, token := range map[string]string{
		"neighbour": s.member(t, "李四").token, "kiosk": s.kiosk, "other staff": other.staff,
		"volunteer": s.member(t, "王五", viewer.Volunteer).token,
	} {
		if status, _, _ := get(token, path); status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", who, status)
		}
	}
	for name, tc := range map[string]struct {
		token, path string
		status      int
	}{
		"anonymous":  {"", path, http.StatusUnauthorized},
		"bad token":  {"nope", path, http.StatusUnauthorized},
		"bad id":     {m.token, "/qr/abc", http.StatusBadRequest},
		"raw id":     {m.token, "/qr/" + strconv.Itoa(r.ID), http.StatusBadRequest},
		"tiny size":  {m.token, path + "?size=8", http.StatusBadRequest},
		"huge size":  {m.token, path + "?size=100000", http.StatusBadRequest},
		"unknown id": {m.token, "/qr/" + linlitest.ID(999999999), http.StatusNotFound},
	} {
		if status, _, _ := get(tc.token, tc.path); status != tc.status {
			t.Errorf("%s: status %d, want %d", name, status, tc.status)
		}
	}

	// Rotating the code changes the image.
	var out struct{ RotateCheckInCode struct{ CheckInCode string } }
	s.e.Do(t, m.token, `mutation($r: ID!) { rotateCheckInCode(registrationID: $r) { checkInCode } }`,
		map[string]any{"r": linlitest.ID(r.ID)}).Decode(t, &out)
	_, _, body := get(m.token, path)
	want, _ := qrcode.Encode(out.RotateCheckInCode.CheckInCode, qrcode.Medium, 256)
	if !bytes.Equal(body, want) {
		t.Fatal("after rotation the image does not show the new code")
	}
}

package graph_test

import (
	"strings"
	"testing"

	"linli/linlitest"
)

// Full-width spellings of common passwords (what a Chinese input method
// types) and the common passwords of the embedded list are refused.
func TestFullWidthAndCommonPasswordsRefused(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		reg := `mutation($in: RegisterInput!) { register(input: $in) { token } }`
		in := func(pw string) map[string]any {
			return map[string]any{"in": map[string]any{"communityID": id(c.ID), "phone": "13700006666", "password": pw, "displayName": "李雷"}}
		}
		for _, pw := range []string{"ｐａｓｓｗｏｒｄ", "１２３４５６７８", "ｗｏａｉｎｉ１３１４", "Ｐａｓｓｗｏｒｄ２０２４！",
			"sunshine", "wang123456", "dragon2024", "butterfly", "qq123456", "shanghai", "baseball!"} {
			res := e.Do(t, "", reg, in(pw))
			if res.Code() != "VALIDATION_FAILED" || res.Field() != "password" {
				t.Errorf("password %q: %s/%s, want VALIDATION_FAILED/password", pw, res.Code(), res.Field())
			}
		}
		e.Do(t, "", reg, in("晨练太极-早上好")).Decode(t, &struct{}{})
	})
}

// 86…, +86…, spaces and dashes are one phone: a second account is
// refused, and login takes any spelling.
func TestEightySixIsTheSamePhone(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		reg := `mutation($in: RegisterInput!) { register(input: $in) { token } }`
		in := func(phone string) map[string]any {
			return map[string]any{"in": map[string]any{"communityID": id(c.ID), "phone": phone, "password": "long-enough-pw", "displayName": "韩梅梅"}}
		}
		e.Do(t, "", reg, in("8613700007777")).Decode(t, &struct{}{})
		for _, variant := range []string{"13700007777", "86 137 0000 7777", "+86-137-0000-7777"} {
			if res := e.Do(t, "", reg, in(variant)); res.Code() != "CONFLICT" {
				t.Errorf("register %q: %s, want CONFLICT", variant, res.Code())
			}
		}
		var got struct{ Login struct{ Token string } }
		e.Do(t, "", `mutation { login(input: {phone: "137-0000-7777", password: "long-enough-pw"}) { token } }`, nil).Decode(t, &got)
		if got.Login.Token == "" {
			t.Error("login with another spelling failed")
		}
	})
}

// A name is at most 40 characters, counted as characters: a 41-character
// name is VALIDATION_FAILED on displayName (never an ent: message), a
// 40-character Chinese name (120 bytes) is taken.
func TestDisplayNameBoundedInCharacters(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		reg := `mutation($in: RegisterInput!) { register(input: $in) { viewer { displayName } } }`
		in := func(phone, name string) map[string]any {
			return map[string]any{"in": map[string]any{"communityID": id(c.ID), "phone": phone, "password": "long-enough-pw", "displayName": name}}
		}
		res := e.Do(t, "", reg, in("13700008881", strings.Repeat("长", 41)))
		res.WantCode(t, "VALIDATION_FAILED")
		if res.Field() != "displayName" || strings.Contains(res.Errors[0].Message, "ent:") {
			t.Fatalf("long name: field %q, %q", res.Field(), res.Errors[0].Message)
		}
		var out struct {
			Register struct{ Viewer struct{ DisplayName string } }
		}
		e.Do(t, "", reg, in("13700008882", strings.Repeat("长", 40))).Decode(t, &out)
		if out.Register.Viewer.DisplayName != strings.Repeat("长", 40) {
			t.Fatalf("name %q", out.Register.Viewer.DisplayName)
		}
	})
}

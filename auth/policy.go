package auth

import (
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"linli/apperr"
)

// Password rules: long enough, not too long for argon2id's input to matter,
// and not one an attacker tries first (a common password, a run of one
// character, a sequence or a short repeated pattern, the account's phone).
const (
	minPasswordRunes = 8
	maxPasswordBytes = 128
)

// commonPasswords are refused as they are and with digits or punctuation
// after them ("password2024", "woaini1314!"): commonpasswords.txt, a few
// hundred of what people in China and elsewhere choose most.
//
//go:embed commonpasswords.txt
var commonPasswordList string

var commonPasswords = map[string]bool{}

func init() {
	for line := range strings.Lines(commonPasswordList) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, w := range strings.Fields(line) {
			commonPasswords[w] = true
		}
	}
}

// ValidatePassword enforces the password rules for an account with phone.
func ValidatePassword(pw, phone string) error {
	if len(pw) > maxPasswordBytes {
		return apperr.Invalid("password", "password must be at most %d bytes", maxPasswordBytes)
	}
	if utf8.RuneCountInString(pw) < minPasswordRunes {
		return apperr.Invalid("password", "password must be at least %d characters", minPasswordRunes)
	}
	// Full-width letters and digits (a Chinese input method's ｐａｓｓｗｏｒｄ,
	// １２３４５６７８) are the same password to the rules below.
	lower := strings.ToLower(width.Narrow.String(pw))
	switch {
	case commonPasswords[lower] || commonPasswords[strings.TrimRightFunc(lower, notLetter)]:
		return apperr.Invalid("password", "this password is among the most common; choose another")
	case repeatsShortUnit(lower):
		return apperr.Invalid("password", "password must not be one character or a short pattern repeated")
	case isSequence(lower):
		return apperr.Invalid("password", "password must not be a simple sequence (12345678, abcdefgh, qwertyui)")
	case containsPhone(lower, phone):
		return apperr.Invalid("password", "password must not contain your phone number")
	}
	return nil
}

func notLetter(r rune) bool { return !unicode.IsLetter(r) }

// repeatsShortUnit reports whether s is a unit of at most 3 runes repeated
// (aaaaaaaa, abababab, 123123123, 哈哈哈哈哈哈哈哈).
func repeatsShortUnit(s string) bool {
	r := []rune(s)
	for unit := 1; unit <= 3; unit++ {
		same := true
		for i := unit; i < len(r) && same; i++ {
			same = r[i] == r[i-unit]
		}
		if same {
			return true
		}
	}
	return false
}

// keyboardRows are the sequences typed by running a finger along a row.
var keyboardRows = []string{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"}

// isSequence reports whether s steps by one code point all along, up or
// down (12345678, 98765432, abcdefgh), or runs along a keyboard row.
func isSequence(s string) bool {
	r := []rune(s)
	up, down := true, true
	for i := 1; i < len(r); i++ {
		up = up && r[i] == r[i-1]+1
		down = down && r[i] == r[i-1]-1
	}
	if up || down {
		return true
	}
	for _, row := range keyboardRows {
		rev := reverse(row)
		if strings.Contains(row+row, s) || strings.Contains(rev+rev, s) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// containsPhone reports whether the password holds the phone's national
// number (without +86), or is made of its digits (its last eight, say).
func containsPhone(pw, phone string) bool {
	national := strings.TrimPrefix(phone, "+")
	if strings.HasPrefix(phone, "+86") || len(national) == 13 && strings.HasPrefix(national, "86") {
		national = national[2:]
	}
	if national == "" {
		return false
	}
	return strings.Contains(pw, national) || strings.Contains(phone, pw)
}

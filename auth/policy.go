package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"

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
// after them ("password2024", "woaini1314!"). A short list of our own of what
// people in China and elsewhere choose most; not exhaustive.
var commonPasswords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`
		password passw0rd p@ssw0rd pass iloveyou woaini woaiwojia wojiushiwo
		qwerty qwertyui qwertyuiop asdfghjk asdfasdf zxcvbnm 1q2w3e4r 1qaz2wsx
		qazwsx qazwsxedc abc abcd abcdef abc123 a123456 aa123456 admin
		administrator root welcome letmein monkey dragon football baseball
		sunshine princess shadow master superman batman trustno1 whatever
		computer internet hello helloworld changeme secret default login
		linli linli123 volunteer zhiyuanzhe shequ mima mima123 nihao
		5201314 1314520 521521 147258369 159357 123qwe qwe123 zaq12wsx
		test testtest guest user
	`) {
		commonPasswords[w] = true
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
	lower := strings.ToLower(pw)
	switch {
	case commonPasswords[lower] || commonPasswords[strings.TrimRightFunc(lower, notLetter)]:
		return apperr.Invalid("password", "this password is among the most common; choose another")
	case repeatsShortUnit(lower):
		return apperr.Invalid("password", "password must not be one character or a short pattern repeated")
	case isSequence(lower):
		return apperr.Invalid("password", "password must not be a simple sequence (12345678, abcdefgh, qwertyui)")
	case containsPhone(pw, phone):
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

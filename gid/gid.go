// Package gid turns linli's internal row IDs into the opaque IDs the API
// shows, and back. Ent numbers rows sequentially (each type in its own 2^32
// range), so an internal ID tells its neighbours; the API never shows one.
//
// An API ID is the internal ID, as 8 big-endian bytes followed by 8 fixed
// bytes, encrypted as one AES-128 block under the deployment's key, written
// in lower-case base32 without padding (26 characters). AES is a keyed
// permutation: without the key, the IDs of consecutive rows are unrelated
// random-looking strings, and nobody can compute the ID of another row. The
// 8 fixed bytes make every string that is not an encoding under the key
// (a guess, an ID with a character changed, one from another deployment, a
// bare number) fail to decode, except with probability 2^-64.
//
// The codec travels in the request context (NewContext, FromContext): the
// GraphQL ID scalar (MarshalID, UnmarshalID) and every other place an ID
// crosses the API boundary as text read it from there.
package gid

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
)

// EncodedLen is the length of every encoded ID.
const EncodedLen = 26

// MinKeyLen is the shortest key New accepts: a configured key is a secret,
// not a password.
const MinKeyLen = 16

// magic fills the second half of every block: decoding checks it.
var magic = [8]byte{'l', 'i', 'n', 'l', 'i', 'i', 'd', 1}

var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ErrInvalid is the error for a string that is not an ID under the codec's key.
var ErrInvalid = errors.New("not a valid ID")

// Codec encodes and decodes IDs under one key. It is safe for concurrent use.
type Codec struct {
	block cipher.Block
	// cursors seals page cursors (cursor.go), under a key of its own.
	cursors cipher.AEAD
}

// New returns the codec for key (at least MinKeyLen bytes). The AES key is
// derived from it, so any secret string of that length will do.
func New(key []byte) (*Codec, error) {
	if len(key) < MinKeyLen {
		return nil, errors.New("gid: the ID key needs at least 16 bytes")
	}
	derive := func(label string) []byte {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(label))
		return mac.Sum(nil)[:16]
	}
	block, err := aes.NewCipher(derive("linli API IDs v1"))
	if err != nil {
		return nil, err
	}
	cursorBlock, err := aes.NewCipher(derive("linli API cursors v1"))
	if err != nil {
		return nil, err
	}
	cursors, err := cipher.NewGCM(cursorBlock)
	if err != nil {
		return nil, err
	}
	return &Codec{block: block, cursors: cursors}, nil
}

// Encode returns the API ID of the internal id.
func (c *Codec) Encode(id int) string {
	var b [aes.BlockSize]byte
	c.encrypt(&b, id)
	var out [EncodedLen]byte
	encoding.Encode(out[:], b[:])
	return string(out[:])
}

// AppendEncoded appends Encode(id) to dst.
func (c *Codec) AppendEncoded(dst []byte, id int) []byte {
	var b [aes.BlockSize]byte
	c.encrypt(&b, id)
	return encoding.AppendEncode(dst, b[:])
}

func (c *Codec) encrypt(b *[aes.BlockSize]byte, id int) {
	binary.BigEndian.PutUint64(b[:8], uint64(id))
	copy(b[8:], magic[:])
	c.block.Encrypt(b[:], b[:])
}

// Decode returns the internal ID that s encodes, or ErrInvalid when s is not
// an ID under this codec's key (the only encoding of each ID is accepted).
func (c *Codec) Decode(s string) (int, error) {
	if len(s) != EncodedLen {
		return 0, ErrInvalid
	}
	var b [aes.BlockSize + 1]byte
	n, err := encoding.Decode(b[:], []byte(s))
	if err != nil || n != aes.BlockSize {
		return 0, ErrInvalid
	}
	// 26 characters carry 130 bits: the last character's two spare bits
	// must be zero, so that each ID has one spelling only.
	if encoding.EncodeToString(b[:n]) != s {
		return 0, ErrInvalid
	}
	c.block.Decrypt(b[:n], b[:n])
	if [8]byte(b[8:16]) != magic {
		return 0, ErrInvalid
	}
	id := binary.BigEndian.Uint64(b[:8])
	if id == 0 || id > 1<<62 {
		return 0, ErrInvalid
	}
	return int(id), nil
}

type ctxKey struct{}

// NewContext returns ctx carrying c.
func NewContext(ctx context.Context, c *Codec) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// FromContext returns the codec in ctx, or nil.
func FromContext(ctx context.Context) *Codec {
	c, _ := ctx.Value(ctxKey{}).(*Codec)
	return c
}

// errNoCodec is a programming error: an ID crossed the API boundary in a
// context no codec was put in. Nothing falls back to the internal ID.
var errNoCodec = errors.New("gid: no ID codec in the context")

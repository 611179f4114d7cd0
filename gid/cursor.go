package gid

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
)

// Page cursors are entgql's (msgpack of the row's internal id and its order
// value), sealed under the codec's cursor key (AES-GCM): a client can
// neither read the internal number out of a cursor nor make one that starts
// a page at a row of its choosing. gqlgen.yml maps the Cursor scalar here,
// so every connection's cursors, given and taken, pass through it.

// ErrInvalidCursor is the error for a cursor this deployment did not make.
var ErrInvalidCursor = errors.New("not a valid cursor")

// MarshalCursor writes c sealed under the context's codec.
func MarshalCursor(c entgql.Cursor[int]) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(ctx context.Context, w io.Writer) error {
		codec := FromContext(ctx)
		if codec == nil {
			return errNoCodec
		}
		var plain bytes.Buffer
		c.MarshalGQL(&plain) // "base64(msgpack)"
		sealed, err := codec.sealCursor(bytes.Trim(plain.Bytes(), `"`))
		if err != nil {
			return err
		}
		_, err = w.Write(append(append([]byte{'"'}, sealed...), '"'))
		return err
	})
}

// UnmarshalCursor reads a cursor argument made by MarshalCursor under the
// context's codec; anything else is refused (VALIDATION_FAILED on the
// argument).
func UnmarshalCursor(ctx context.Context, v any) (entgql.Cursor[int], error) {
	var c entgql.Cursor[int]
	codec := FromContext(ctx)
	if codec == nil {
		return c, errNoCodec
	}
	s, ok := v.(string)
	if !ok {
		return c, ErrInvalidCursor
	}
	plain, err := codec.openCursor(s)
	if err != nil {
		return c, ErrInvalidCursor
	}
	if err := c.UnmarshalGQL(string(plain)); err != nil {
		return c, ErrInvalidCursor
	}
	return c, nil
}

func (c *Codec) sealCursor(plain []byte) ([]byte, error) {
	nonce := make([]byte, c.cursors.NonceSize(), c.cursors.NonceSize()+len(plain)+c.cursors.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	sealed := c.cursors.Seal(nonce, nonce, plain, nil)
	return base64.RawURLEncoding.AppendEncode(nil, sealed), nil
}

func (c *Codec) openCursor(s string) ([]byte, error) {
	if len(s) > 4096 {
		return nil, ErrInvalidCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < c.cursors.NonceSize()+c.cursors.Overhead() {
		return nil, ErrInvalidCursor
	}
	n := c.cursors.NonceSize()
	return c.cursors.Open(nil, b[:n], b[n:], nil)
}

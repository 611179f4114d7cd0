package gid

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalID writes the GraphQL ID of the internal id v, with the codec in the
// context (gqlgen.yml maps the ID scalar here).
func MarshalID(v int) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(ctx context.Context, w io.Writer) error {
		c := FromContext(ctx)
		if c == nil {
			return errNoCodec
		}
		b := make([]byte, 0, EncodedLen+2)
		b = append(b, '"')
		b = c.AppendEncoded(b, v)
		b = append(b, '"')
		_, err := w.Write(b)
		return err
	})
}

// UnmarshalID reads a GraphQL ID argument: a string that the context's codec
// decodes. A number, or any other string, is refused; the executor puts the
// error on the argument's path, which graph classifies as VALIDATION_FAILED
// with the argument's name.
func UnmarshalID(ctx context.Context, v any) (int, error) {
	c := FromContext(ctx)
	if c == nil {
		return 0, errNoCodec
	}
	switch v := v.(type) {
	case string:
		return c.Decode(v)
	case int, int64, json.Number:
		return 0, errors.New("an ID is an opaque string, not a number")
	}
	return 0, ErrInvalid
}

package reqlog

import "context"

type backgroundKey struct{}

// Background marks ctx as linli's own background work (the job runner,
// the read log's flushes): statements made under it are nobody's request.
// Tests that count a request's statements leave these out.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// IsBackground tells whether ctx was marked by Background.
func IsBackground(ctx context.Context) bool {
	b, _ := ctx.Value(backgroundKey{}).(bool)
	return b
}

package store

import (
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
)

// RedisOption configures NewRedis.
type RedisOption func(*redisOptions)

type redisOptions struct {
	tp trace.TracerProvider
}

// WithTracerProvider makes a span of every Redis command (go-redis's own
// redisotel); a nil provider leaves the client uninstrumented.
func WithTracerProvider(tp trace.TracerProvider) RedisOption {
	return func(o *redisOptions) { o.tp = tp }
}

func instrumentRedis(rdb *redis.Client, opts []RedisOption) error {
	var o redisOptions
	for _, f := range opts {
		f(&o)
	}
	if o.tp == nil {
		return nil
	}
	// Statements are not recorded: the values are cached answers and
	// idempotency records, which may hold a caller's data.
	return redisotel.InstrumentTracing(rdb, redisotel.WithTracerProvider(o.tp), redisotel.WithDBStatement(false))
}

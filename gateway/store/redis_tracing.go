package store

import (
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
)

// WithTracerProvider makes a span of every Redis command (go-redis's own
// redisotel); a nil provider leaves the client uninstrumented.
func WithTracerProvider(tp trace.TracerProvider) RedisOption {
	return func(o *redisOptions) { o.tp = tp }
}

func instrumentRedis(rdb *redis.Client, o redisOptions) error {
	if o.tp == nil {
		return nil
	}
	// Statements are not recorded: the values are cached answers and
	// idempotency records, which may hold a caller's data.
	return redisotel.InstrumentTracing(rdb, redisotel.WithTracerProvider(o.tp), redisotel.WithDBStatement(false))
}

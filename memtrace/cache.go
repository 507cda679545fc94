package memtrace

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ContextCache holds rendered session contexts. A session's cached
// contexts are invalidated when it gets a new memory.
type ContextCache interface {
	// Get returns the cached body for variant (the request's options) of
	// the session, and the generation to hand back to Put.
	Get(ctx context.Context, org, session, variant string) (body []byte, gen int64, ok bool, err error)
	// Put stores body under the generation Get returned: if the session
	// changed meanwhile, the entry is stored under a generation no reader
	// asks for, so a stale context is never served.
	Put(ctx context.Context, org, session, variant string, gen int64, body []byte) error
	// Invalidate makes every cached context of the session stale.
	Invalidate(ctx context.Context, org, session string) error
}

// RedisCache is a ContextCache in Redis. Each session has a generation
// counter; entries are keyed by it and expire after ttl, which also bounds
// how long a relative window ("last 24h") can be served as it was.
type RedisCache struct {
	c   *redis.Client
	ttl time.Duration
}

// NewRedisCache connects to url (redis://host:port/db) and checks it
// answers.
func NewRedisCache(ctx context.Context, url string, ttl time.Duration) (*RedisCache, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("cache.redis_url: %w", err)
	}
	c := redis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis %s: %w", opt.Addr, err)
	}
	if ttl <= 0 {
		ttl = time.Minute
	}
	return &RedisCache{c: c, ttl: ttl}, nil
}

// Close closes the connection pool.
func (r *RedisCache) Close() error { return r.c.Close() }

func genKey(org, session string) string { return "memtrace:ctxgen:" + org + ":" + session }

func entryKey(org, session, variant string, gen int64) string {
	return fmt.Sprintf("memtrace:ctx:%s:%s:%d:%s", org, session, gen, variant)
}

func (r *RedisCache) Get(ctx context.Context, org, session, variant string) ([]byte, int64, bool, error) {
	gen, err := r.c.Get(ctx, genKey(org, session)).Int64()
	if err != nil && err != redis.Nil {
		return nil, 0, false, err
	}
	b, err := r.c.Get(ctx, entryKey(org, session, variant, gen)).Bytes()
	if err == redis.Nil {
		return nil, gen, false, nil
	}
	if err != nil {
		return nil, gen, false, err
	}
	return b, gen, true, nil
}

func (r *RedisCache) Put(ctx context.Context, org, session, variant string, gen int64, body []byte) error {
	return r.c.Set(ctx, entryKey(org, session, variant, gen), body, r.ttl).Err()
}

func (r *RedisCache) Invalidate(ctx context.Context, org, session string) error {
	p := r.c.TxPipeline()
	p.Incr(ctx, genKey(org, session))
	p.Expire(ctx, genKey(org, session), 24*time.Hour)
	_, err := p.Exec(ctx)
	return err
}

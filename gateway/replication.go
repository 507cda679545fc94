package gateway

import "tsgate/replicate"

// writeLimits are the write guard's bounds from backend.write_*. A Config
// built by hand (not from Default) gets the defaults, not a buffer of no
// rows.
func writeLimits(cfg BackendConfig) replicate.WriteLimits {
	def := Default().Backend
	if cfg.WriteBufferRows <= 0 {
		cfg.WriteBufferRows = def.WriteBufferRows
	}
	if cfg.WriteRetryMaxWait.Duration <= 0 {
		cfg.WriteRetryMaxWait = def.WriteRetryMaxWait
	}
	return replicate.WriteLimits{
		BufferRows:   cfg.WriteBufferRows,
		BufferWait:   cfg.WriteBufferWait.Duration,
		Retries:      cfg.WriteRetries,
		RetryMaxWait: cfg.WriteRetryMaxWait.Duration,
	}
}

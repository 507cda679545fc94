package dialects

import "time"

// TimePrecisioner is a Backend that stores time more coarsely than
// tsgate's microseconds. Written times are truncated toward the past to a
// multiple of TimePrecision (ClickHouse 18.16's DateTime: whole seconds).
type TimePrecisioner interface {
	TimePrecision() time.Duration
}

// TimePrecision is the resolution at which b stores time: the backend's
// own declaration, else µs (every backend that does not declare one keeps
// at least µs: InfluxDB ns, PostgreSQL and DuckDB µs).
func TimePrecision(b Backend) time.Duration {
	if p, ok := b.(TimePrecisioner); ok && p.TimePrecision() > time.Microsecond {
		return p.TimePrecision()
	}
	return time.Microsecond
}

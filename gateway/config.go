package gateway

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"tsgate/auth"
	"tsgate/memtrace"
)

// Config is tsgate's whole configuration. Precedence, lowest first:
// defaults, tsgate.toml, TSGATE_* environment variables, command-line
// flags. Every key's environment name is TSGATE_ plus the key with dots
// turned into underscores, upper-cased (arc.listen → TSGATE_ARC_LISTEN).
type Config struct {
	// DataDir holds the embedded store, the token file and other state.
	DataDir  string         `toml:"data_dir"`
	Backend  BackendConfig  `toml:"backend"`
	Arc      ArcConfig      `toml:"arc"`
	HTTP     HTTPConfig     `toml:"http"`
	Memtrace MemtraceConfig `toml:"memtrace"`
	PGWire   PGWireConfig   `toml:"pgwire"`
	Auth     AuthConfig     `toml:"auth"`
	Log      LogConfig      `toml:"log"`
	UI       UIConfig       `toml:"ui"`
	DuckDB   DuckDBConfig   `toml:"duckdb"`
	Ingest   IngestConfig   `toml:"ingest"`
	Query    QueryConfig    `toml:"query"`
	// Delete, Retention and ContinuousQuery are Arc's management
	// features (package manage).
	Delete          DeleteConfig          `toml:"delete"`
	Retention       RetentionConfig       `toml:"retention"`
	ContinuousQuery ContinuousQueryConfig `toml:"continuous_query"`
	// Migration is dual-write and shadow reads (docs/migration.md); the
	// only section a SIGHUP reload applies.
	Migration MigrationConfig `toml:"migration"`
	// ShutdownTimeout bounds how long in-flight requests may take to finish.
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
}

// BackendConfig selects where data lives. An empty URL means the embedded
// DuckDB store under DataDir. The write_* keys bound writes to a remote
// backend (replicate.WriteGuard); the embedded store has its own group commit.
type BackendConfig struct {
	URL string `toml:"url"`
	// WriteBufferRows bounds the rows of writes in flight to the backend
	// at once; a batch larger than the whole buffer goes alone.
	WriteBufferRows int64 `toml:"write_buffer_rows"`
	// WriteBufferWait is how long a write waits for room in a full
	// buffer before it is answered 503 with nothing stored.
	WriteBufferWait Duration `toml:"write_buffer_wait"`
	// WriteRetries bounds the further attempts of a write that failed
	// with the backend unavailable, made only where a retry cannot store
	// a row twice (dialects.WriteRetrySafe); 0 disables retries.
	WriteRetries int `toml:"write_retries"`
	// WriteRetryMaxWait caps the backoff between attempts, which starts
	// at 100 ms and doubles.
	WriteRetryMaxWait Duration `toml:"write_retry_max_wait"`
}

// ArcConfig is the Arc-compatible HTTP API.
type ArcConfig struct {
	Listen string `toml:"listen"`
	// QueryTimeout answers 504 "Query timed out" past it (Arc: 300 s).
	QueryTimeout Duration `toml:"query_timeout"`
	// MaxBodyBytes caps a decompressed request body (Arc: 100 MB).
	MaxBodyBytes int64 `toml:"max_body_bytes"`
	// MaxSQLLength caps a query's text (Arc: 10,000 characters).
	MaxSQLLength int `toml:"max_sql_length"`
}

// HTTPConfig bounds every HTTP listener (the Arc API and memtrace): how
// long a client may take to send a request, how long the server may take
// to answer, how long an idle keep-alive connection is kept, and how many
// connections are open at once. A body not received within ReadTimeout is
// answered 408 and nothing of it is stored; a connection over the cap is
// answered 503 and closed.
type HTTPConfig struct {
	ReadHeaderTimeout Duration `toml:"read_header_timeout"`
	ReadTimeout       Duration `toml:"read_timeout"`
	// WriteTimeout is from the end of the request to the end of the
	// answer; 0 means arc.query_timeout plus a minute, so a query that
	// may run that long can also be sent back.
	WriteTimeout   Duration `toml:"write_timeout"`
	IdleTimeout    Duration `toml:"idle_timeout"`
	MaxConnections int      `toml:"max_connections"`
}

// MemtraceConfig is the memtrace API front end.
type MemtraceConfig struct {
	// Listen is its address; empty disables the memtrace API.
	Listen string `toml:"listen"`
	// Database and Measurement are where memories are rows (memtrace:
	// the org's Arc database "memory", measurement "events").
	Database    string `toml:"database"`
	Measurement string `toml:"measurement"`
	// AuthEnabled off serves everyone as org_default (memtrace's
	// auth.enabled).
	AuthEnabled bool `toml:"auth_enabled"`
	// BootstrapKey, on first start, becomes org_default's admin key
	// instead of a random one printed once; it must look like an mtk_ key.
	BootstrapKey string `toml:"bootstrap_key"`
	// MasterKey (base64 of 32 bytes: `tsgate memtrace keygen master`)
	// seals organizations' own backend URLs in the metadata store, which
	// may carry credentials. Needed once any organization has one
	// (memtrace: MEMTRACE_MASTER_KEY).
	MasterKey string `toml:"master_key"`
	// RequireOrgBackend answers an organization without a backend of its
	// own memtrace's 503 "no arc instance configured for this org", as
	// memtrace 0.2 does; off, such an organization uses backend.url.
	RequireOrgBackend bool `toml:"require_org_backend"`
	// MaxBodyBytes caps a request body (memtrace: 4 MiB).
	MaxBodyBytes int64                  `toml:"max_body_bytes"`
	Metadata     MemtraceMetadataConfig `toml:"metadata"`
	Cache        MemtraceCacheConfig    `toml:"cache"`
	Dedup        MemtraceDedupConfig    `toml:"dedup"`
}

// MemtraceMetadataConfig is where orgs, keys, agents and sessions live.
type MemtraceMetadataConfig struct {
	// URL, when set (postgres://…), is a PostgreSQL database several
	// replicas share; empty means SQLite at Path.
	URL string `toml:"url"`
	// Path is the SQLite file; empty means memtrace.db in data_dir.
	Path string `toml:"path"`
}

// MemtraceCacheConfig is the optional session-context cache.
type MemtraceCacheConfig struct {
	// RedisURL (redis://host:port/db) enables it.
	RedisURL string `toml:"redis_url"`
	// TTL bounds how long a context is served from cache.
	TTL Duration `toml:"ttl"`
}

// MemtraceDedupConfig is memtrace's content dedup.
type MemtraceDedupConfig struct {
	Enabled     bool `toml:"enabled"`
	WindowHours int  `toml:"window_hours"`
}

// PGWireConfig is the PostgreSQL wire protocol front end.
type PGWireConfig struct {
	// Listen is its address; empty disables pg wire.
	Listen string `toml:"listen"`
	// AuthMethod is "scram-sha-256" (default) or "password" (cleartext,
	// offered only on TLS connections). The password is an API token.
	AuthMethod string `toml:"auth_method"`
	// TLSCert and TLSKey are PEM files; with both set SSLRequest is
	// answered 'S' and the session runs over TLS.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// ServerVersion is reported as server_version; clients pick features
	// by it, so it must look like a PostgreSQL version.
	ServerVersion string `toml:"server_version"`
	// MaxConnections caps open sessions; one more is refused with
	// PostgreSQL's 53300 "sorry, too many clients already".
	MaxConnections int `toml:"max_connections"`
}

// AuthConfig controls API tokens.
type AuthConfig struct {
	// Enabled is on by default: a gateway that stores data answers no one
	// anonymous unless told to.
	Enabled bool `toml:"enabled"`
	// BootstrapToken, when set on first start, becomes the admin token
	// instead of a random one.
	BootstrapToken string `toml:"bootstrap_token"`
	// StoreURL, when set (postgres://…), keeps the tokens and their
	// SCRAM verifiers in that PostgreSQL database, shared by every
	// replica; empty means the token file in data_dir.
	StoreURL string `toml:"store_url"`
}

// UIConfig is the web console at /ui/ on the Arc API's listener.
type UIConfig struct {
	// Enabled serves the console's page (public: it holds no data) and
	// its JSON routes (an API token with read permission).
	Enabled bool `toml:"enabled"`
	// ConformanceReport is the `tsgate conformance --report json` output
	// the console's matrix shows; empty means conformance.json in
	// data_dir.
	ConformanceReport string `toml:"conformance_report"`
}

// LogConfig sets the structured logger.
type LogConfig struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// QueryConfig bounds the local finishing engine: when a remote backend
// cannot answer a query exactly as a whole, it returns the rows (filtered
// by time and tags) and an in-process DuckDB finishes the query as the
// reference would.
type QueryConfig struct {
	// Hybrid enables split plans; off, such queries are refused (0A000).
	Hybrid bool `toml:"hybrid"`
	// MaxPullRows and MaxPullBytes cap one query's rows from the backend;
	// past either the query is refused, naming the cap.
	MaxPullRows  int64 `toml:"max_pull_rows"`
	MaxPullBytes int64 `toml:"max_pull_bytes"`
	// PullBudgetBytes caps all split queries in flight together; one that
	// would pass it answers 503.
	PullBudgetBytes int64 `toml:"pull_budget_bytes"`
	// LocalMemoryLimit is the finishing engine's DuckDB memory_limit.
	LocalMemoryLimit string `toml:"local_memory_limit"`
}

// DeleteConfig is Arc's delete API (rows and databases): off unless
// enabled, as in Arc.
type DeleteConfig struct {
	Enabled bool `toml:"enabled"`
	// ConfirmationThreshold: deleting more rows needs confirm=true.
	ConfirmationThreshold int64 `toml:"confirmation_threshold"`
	// MaxRowsPerDelete: a delete of more rows is refused.
	MaxRowsPerDelete int64 `toml:"max_rows_per_delete"`
}

// RetentionConfig is Arc's retention policies: the API, and tsgate's
// scheduler running every active policy once per Interval.
type RetentionConfig struct {
	Enabled  bool     `toml:"enabled"`
	Interval Duration `toml:"interval"`
}

// ContinuousQueryConfig is Arc's continuous queries: the API, and the
// scheduler running each active query at its own interval.
type ContinuousQueryConfig struct {
	Enabled bool `toml:"enabled"`
}

// DuckDBConfig tunes the embedded store.
type DuckDBConfig struct {
	Threads     int    `toml:"threads"`
	MemoryLimit string `toml:"memory_limit"`
}

// IngestConfig says when a write to the embedded store is acknowledged.
type IngestConfig struct {
	// Durability "wal" (default) answers 204 once the rows are committed
	// to DuckDB's WAL. "buffer" answers once they are queued, as Arc
	// does, and commits every BufferRows rows or BufferAge: a crash loses
	// what was acknowledged and not yet committed.
	Durability string `toml:"durability"`
	// BufferRows and BufferAge bound a buffered group (Arc's
	// ingest.max_buffer_size and max_buffer_age_ms).
	BufferRows int      `toml:"buffer_rows"`
	BufferAge  Duration `toml:"buffer_age"`
}

// MigrationConfig runs a migration's dual-write and shadow reads.
// Backends are backend.url-style URLs or embedded:DIR (the embedded store
// in data directory DIR; embedded: alone is data_dir's).
type MigrationConfig struct {
	// Primary answers every client; empty means backend.url (or the
	// embedded store when that is empty too).
	Primary string `toml:"primary"`
	// Secondary receives every write the primary accepted, through the
	// durable queue; empty turns dual-write and shadow reads off.
	Secondary string `toml:"secondary"`
	// QueueDir holds the queues, one per secondary; empty means
	// <data_dir>/dualwrite.
	QueueDir string `toml:"queue_dir"`
	// QueueMaxBytes bounds a queue on disk; past it writes still succeed
	// on the primary and the secondary is marked diverged.
	QueueMaxBytes int64 `toml:"queue_max_bytes"`
	// ShadowFraction (0..1) of Arc API and memtrace queries also run on
	// the secondary, compared with the primary's rows.
	ShadowFraction float64 `toml:"shadow_fraction"`
	// ShadowTimeout bounds a shadow query on the secondary.
	ShadowTimeout Duration `toml:"shadow_timeout"`
	// DrainTimeout bounds how long a reload that makes the secondary the
	// primary waits for its queue to empty (writes pause meanwhile for
	// the final part).
	DrainTimeout Duration `toml:"drain_timeout"`
}

// Duration is a time.Duration written as "30s" in TOML and environment.
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Default is the configuration with nothing set.
func Default() Config {
	return Config{
		DataDir: "./data",
		Backend: BackendConfig{
			WriteBufferRows:   1_000_000,
			WriteBufferWait:   Duration{500 * time.Millisecond},
			WriteRetries:      3,
			WriteRetryMaxWait: Duration{time.Second},
		},
		Arc: ArcConfig{
			Listen:       ":8000",
			QueryTimeout: Duration{300 * time.Second},
			MaxBodyBytes: 100 << 20,
			MaxSQLLength: 10000,
		},
		Memtrace: MemtraceConfig{
			Listen:       ":9100",
			Database:     "memory",
			Measurement:  "events",
			AuthEnabled:  true,
			MaxBodyBytes: 4 << 20,
			Cache:        MemtraceCacheConfig{TTL: Duration{time.Minute}},
			Dedup:        MemtraceDedupConfig{Enabled: true, WindowHours: 24},
		},
		HTTP: HTTPConfig{
			ReadHeaderTimeout: Duration{10 * time.Second},
			ReadTimeout:       Duration{2 * time.Minute},
			IdleTimeout:       Duration{2 * time.Minute},
			MaxConnections:    4096,
		},
		Ingest:          IngestConfig{Durability: "wal", BufferRows: 50_000, BufferAge: Duration{5 * time.Second}},
		Query:           QueryConfig{Hybrid: true, MaxPullRows: 5_000_000, MaxPullBytes: 1 << 30, PullBudgetBytes: 2 << 30, LocalMemoryLimit: "2GB"},
		PGWire:          PGWireConfig{Listen: ":5433", AuthMethod: "scram-sha-256", ServerVersion: "15.0 (tsgate)", MaxConnections: 1024},
		Auth:            AuthConfig{Enabled: true},
		Delete:          DeleteConfig{ConfirmationThreshold: 10_000, MaxRowsPerDelete: 1_000_000},
		Retention:       RetentionConfig{Enabled: true, Interval: Duration{time.Hour}},
		ContinuousQuery: ContinuousQueryConfig{Enabled: true},
		Log:             LogConfig{Level: "info", Format: "text"},
		UI:              UIConfig{Enabled: true},
		ShutdownTimeout: Duration{30 * time.Second},
		Migration:       MigrationConfig{QueueMaxBytes: 1 << 30, ShadowTimeout: Duration{30 * time.Second}, DrainTimeout: Duration{30 * time.Second}},
	}
}

// ConfigSearchPath is where LoadConfig looks for tsgate.toml when no file is
// named, in order.
func ConfigSearchPath() []string {
	paths := []string{"tsgate.toml", "/etc/tsgate/tsgate.toml"}
	if home, err := os.UserHomeDir(); err == nil {
		paths = append(paths, filepath.Join(home, ".tsgate", "tsgate.toml"))
	}
	return paths
}

// LoadConfig builds the configuration from defaults, the file (the named one,
// which must exist, or the first found on the search path) and environ
// (KEY=VALUE pairs, normally os.Environ()). It returns the file used, "" if
// none.
func LoadConfig(file string, environ []string) (Config, string, error) {
	cfg := Default()
	if err := applyMemtraceCompat(&cfg, environ); err != nil {
		return cfg, "", err
	}
	if file == "" {
		for _, p := range ConfigSearchPath() {
			if _, err := os.Stat(p); err == nil {
				file = p
				break
			}
		}
	}
	if file != "" {
		md, err := toml.DecodeFile(file, &cfg)
		if err != nil {
			return cfg, file, fmt.Errorf("config %s: %w", file, err)
		}
		if un := md.Undecoded(); len(un) > 0 {
			return cfg, file, fmt.Errorf("config %s: unknown key %q", file, un[0].String())
		}
	}
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "TSGATE_") {
			env[k] = v
		}
	}
	if err := applyEnv(reflect.ValueOf(&cfg).Elem(), "TSGATE", env); err != nil {
		return cfg, file, err
	}
	return cfg, file, cfg.Validate()
}

// applyEnv walks the struct by its toml tags so a new config key gets its
// environment variable without anyone writing it down twice.
func applyEnv(v reflect.Value, prefix string, env map[string]string) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(Duration{}) {
			if err := applyEnv(fv, name, env); err != nil {
				return err
			}
			continue
		}
		s, ok := env[name]
		if !ok {
			continue
		}
		if err := setFromString(fv, s); err != nil {
			return fmt.Errorf("environment %s=%q: %w", name, s, err)
		}
	}
	return nil
}

func setFromString(v reflect.Value, s string) error {
	if u, ok := v.Addr().Interface().(interface{ UnmarshalText([]byte) error }); ok {
		return u.UnmarshalText([]byte(s))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		v.SetFloat(f)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		v.SetInt(n)
	default:
		return fmt.Errorf("unsupported config type %s", v.Type())
	}
	return nil
}

var memtraceName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,63}$`)

// Validate rejects settings that cannot work.
func (c Config) Validate() error {
	var problems []error
	if c.DataDir == "" {
		problems = append(problems, errors.New("data_dir must not be empty"))
	}
	if c.Arc.Listen == "" {
		problems = append(problems, errors.New("arc.listen must not be empty"))
	}
	if c.Arc.QueryTimeout.Duration <= 0 {
		problems = append(problems, errors.New("arc.query_timeout must be positive"))
	}
	if c.Arc.MaxBodyBytes <= 0 {
		problems = append(problems, errors.New("arc.max_body_bytes must be positive"))
	}
	if h := c.HTTP; h.ReadHeaderTimeout.Duration <= 0 || h.ReadTimeout.Duration <= 0 || h.WriteTimeout.Duration < 0 || h.IdleTimeout.Duration <= 0 || h.MaxConnections <= 0 {
		problems = append(problems, errors.New("http.read_header_timeout, http.read_timeout, http.idle_timeout and http.max_connections must be positive, http.write_timeout not negative"))
	}
	if q := c.Query; q.MaxPullRows <= 0 || q.MaxPullBytes <= 0 || q.PullBudgetBytes < q.MaxPullBytes || q.LocalMemoryLimit == "" {
		problems = append(problems, errors.New("query.max_pull_rows and query.max_pull_bytes must be positive, query.pull_budget_bytes at least query.max_pull_bytes, query.local_memory_limit set"))
	}
	if u := c.Auth.StoreURL; u != "" && !auth.IsPostgresURL(u) {
		problems = append(problems, errors.New("auth.store_url: must be a postgres:// or postgresql:// URL (empty: the token file in data_dir)"))
	}
	if i := c.Ingest; (i.Durability != "wal" && i.Durability != "buffer") || i.BufferRows <= 0 || i.BufferAge.Duration <= 0 {
		problems = append(problems, errors.New(`ingest.durability must be "wal" or "buffer", ingest.buffer_rows and ingest.buffer_age positive`))
	}
	if c.PGWire.MaxConnections <= 0 {
		problems = append(problems, errors.New("pgwire.max_connections must be positive"))
	}
	if b := c.Backend; b.WriteBufferRows <= 0 || b.WriteBufferWait.Duration < 0 || b.WriteRetries < 0 || b.WriteRetries > 100 || b.WriteRetryMaxWait.Duration <= 0 {
		problems = append(problems, errors.New("backend.write_buffer_rows and backend.write_retry_max_wait must be positive, backend.write_buffer_wait not negative, backend.write_retries between 0 and 100"))
	}
	switch c.PGWire.AuthMethod {
	case "scram-sha-256", "password":
	default:
		problems = append(problems, fmt.Errorf("pgwire.auth_method %q: must be scram-sha-256 or password (md5 would need each token in plaintext)", c.PGWire.AuthMethod))
	}
	if (c.PGWire.TLSCert == "") != (c.PGWire.TLSKey == "") {
		problems = append(problems, errors.New("pgwire.tls_cert and pgwire.tls_key must be set together"))
	}
	if c.Memtrace.Listen != "" {
		if c.Memtrace.Dedup.WindowHours <= 0 {
			problems = append(problems, errors.New("memtrace.dedup.window_hours must be positive"))
		}
		if c.Memtrace.MaxBodyBytes <= 0 {
			problems = append(problems, errors.New("memtrace.max_body_bytes must be positive"))
		}
		// The measurement is spliced into memtrace's SQL as a bare name.
		if !memtraceName.MatchString(c.Memtrace.Database) || !memtraceName.MatchString(c.Memtrace.Measurement) {
			problems = append(problems, errors.New("memtrace.database and memtrace.measurement must be letters, digits and underscores, starting with a letter"))
		}
		if c.Memtrace.MasterKey != "" {
			if _, err := memtrace.NewSealer(c.Memtrace.MasterKey); err != nil {
				problems = append(problems, fmt.Errorf("memtrace.master_key: %w", err))
			}
		}
	}
	if m := c.Migration; !(m.ShadowFraction >= 0 && m.ShadowFraction <= 1) {
		problems = append(problems, fmt.Errorf("migration.shadow_fraction %v: must be between 0 and 1", m.ShadowFraction))
	}
	if c.Migration.QueueMaxBytes < 0 || c.Migration.ShadowTimeout.Duration <= 0 || c.Migration.DrainTimeout.Duration <= 0 {
		problems = append(problems, errors.New("migration.queue_max_bytes must not be negative; migration.shadow_timeout and migration.drain_timeout must be positive"))
	}
	if c.Migration.Primary != "" && c.Migration.Primary == c.Migration.Secondary {
		problems = append(problems, errors.New("migration.primary and migration.secondary must differ"))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		problems = append(problems, fmt.Errorf("log.format %q: must be text or json", c.Log.Format))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		problems = append(problems, fmt.Errorf("log.level %q: must be debug, info, warn or error", c.Log.Level))
	}
	return errors.Join(problems...)
}

package gateway

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// memtraceFile is the part of memtrace's memtrace.toml that still means
// something behind tsgate. arc.url and arc.api_key are accepted and
// ignored (the backend is tsgate's), as are arc.write_batch_size and
// arc.write_flush_interval_ms: tsgate does not buffer memories, it commits
// each write before answering.
type memtraceFile struct {
	Server struct {
		Host *string `toml:"host"`
		Port *int    `toml:"port"`
	} `toml:"server"`
	Log struct {
		Level  *string `toml:"level"`
		Format *string `toml:"format"`
	} `toml:"log"`
	Auth struct {
		Enabled *bool   `toml:"enabled"`
		DBPath  *string `toml:"db_path"`
	} `toml:"auth"`
	Dedup struct {
		Enabled     *bool `toml:"enabled"`
		WindowHours *int  `toml:"window_hours"`
	} `toml:"dedup"`
	Arc struct {
		Database    *string `toml:"database"`
		Measurement *string `toml:"measurement"`
	} `toml:"arc"`
	// MasterKey has no memtrace.toml key: memtrace reads it from
	// MEMTRACE_MASTER_KEY only.
	MasterKey *string `toml:"-"`
}

// MemtraceConfigSearchPath is where memtrace looked for memtrace.toml.
func MemtraceConfigSearchPath() []string {
	paths := []string{"memtrace.toml", "/etc/memtrace/memtrace.toml"}
	if home, err := os.UserHomeDir(); err == nil {
		paths = append(paths, filepath.Join(home, ".memtrace", "memtrace.toml"))
	}
	return paths
}

// applyMemtraceCompat lets a memtrace deployment move to tsgate without
// rewriting its configuration: memtrace.toml (first found on memtrace's
// search path) and then MEMTRACE_* variables set the matching tsgate keys.
// They rank just above the defaults, so tsgate.toml and TSGATE_* win.
func applyMemtraceCompat(cfg *Config, environ []string) error {
	var f memtraceFile
	for _, p := range MemtraceConfigSearchPath() {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if _, err := toml.DecodeFile(p, &f); err != nil {
			return fmt.Errorf("memtrace config %s: %w", p, err)
		}
		break
	}
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "MEMTRACE_") {
			env[k] = v
		}
	}
	str := func(dst **string, name string) {
		if v, ok := env[name]; ok {
			*dst = &v
		}
	}
	var bad []string
	num := func(dst **int, name string) {
		if v, ok := env[name]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				bad = append(bad, name)
				return
			}
			*dst = &n
		}
	}
	boolean := func(dst **bool, name string) {
		if v, ok := env[name]; ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad = append(bad, name)
				return
			}
			*dst = &b
		}
	}
	str(&f.Server.Host, "MEMTRACE_SERVER_HOST")
	num(&f.Server.Port, "MEMTRACE_SERVER_PORT")
	str(&f.Log.Level, "MEMTRACE_LOG_LEVEL")
	str(&f.Log.Format, "MEMTRACE_LOG_FORMAT")
	boolean(&f.Auth.Enabled, "MEMTRACE_AUTH_ENABLED")
	str(&f.Auth.DBPath, "MEMTRACE_AUTH_DB_PATH")
	boolean(&f.Dedup.Enabled, "MEMTRACE_DEDUP_ENABLED")
	num(&f.Dedup.WindowHours, "MEMTRACE_DEDUP_WINDOW_HOURS")
	str(&f.Arc.Database, "MEMTRACE_ARC_DATABASE")
	str(&f.Arc.Measurement, "MEMTRACE_ARC_MEASUREMENT")
	str(&f.MasterKey, "MEMTRACE_MASTER_KEY")
	if len(bad) > 0 {
		return fmt.Errorf("environment %s: not a valid value", strings.Join(bad, ", "))
	}

	m := &cfg.Memtrace
	if f.Server.Host != nil || f.Server.Port != nil {
		host, port, _ := net.SplitHostPort(m.Listen)
		if f.Server.Host != nil {
			host = *f.Server.Host
			if host == "0.0.0.0" {
				host = ""
			}
		}
		if f.Server.Port != nil {
			port = strconv.Itoa(*f.Server.Port)
		}
		m.Listen = net.JoinHostPort(host, port)
	}
	if f.Log.Level != nil {
		cfg.Log.Level = *f.Log.Level
	}
	if f.Log.Format != nil {
		// memtrace's human format is "console"; tsgate's is "text".
		cfg.Log.Format = *f.Log.Format
		if cfg.Log.Format == "console" {
			cfg.Log.Format = "text"
		}
	}
	if f.Auth.Enabled != nil {
		m.AuthEnabled = *f.Auth.Enabled
	}
	if f.Auth.DBPath != nil {
		m.Metadata.Path = *f.Auth.DBPath
	}
	if f.Dedup.Enabled != nil {
		m.Dedup.Enabled = *f.Dedup.Enabled
	}
	if f.Dedup.WindowHours != nil {
		m.Dedup.WindowHours = *f.Dedup.WindowHours
	}
	if f.Arc.Database != nil {
		m.Database = *f.Arc.Database
	}
	if f.Arc.Measurement != nil {
		m.Measurement = *f.Arc.Measurement
	}
	if f.MasterKey != nil {
		m.MasterKey = *f.MasterKey
	}
	return nil
}

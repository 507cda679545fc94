package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"tsgate/model"
)

// Executor runs one PostgreSQL statement, parameters already bound, with
// bare names resolving in the Arc database db. The gateway's
// implementation translates it for the configured backend.
type Executor interface {
	Query(ctx context.Context, db, sql string) (model.Rows, error)
}

// Session is what a catalog query may depend on besides the schema.
type Session struct {
	User     string
	Database string
}

// Catalog runs queries over the emulated system catalog.
type Catalog interface {
	Query(ctx context.Context, s Session, sql string) (model.Rows, error)
}

// ParamTyper is an optional Executor extension: the types of parameters
// as the columns they are compared with imply (by $n).
type ParamTyper interface {
	ParamTypes(ctx context.Context, db, sql string) map[int]model.FieldType
}

// Describer is an optional Executor extension: a statement's result
// columns without running it for its rows (Describe of a statement).
type Describer interface {
	Describe(ctx context.Context, db, sql string) ([]model.ResultColumn, error)
}

// Auth methods.
const (
	AuthSCRAM    = "scram-sha-256"
	AuthPassword = "password" // cleartext, accepted only over TLS
)

// Config configures a Server.
type Config struct {
	// TLS, when set, answers SSLRequest with 'S'; otherwise 'N'.
	TLS *tls.Config
	// AuthMethod is AuthSCRAM (default) or AuthPassword. Cleartext is
	// only ever used on a TLS connection; a plain one falls back to SCRAM.
	AuthMethod string
	// Auth checks tokens; nil means authentication is disabled and every
	// login is accepted (the gateway's auth.enabled=false).
	Auth *TokenAuth
	// Catalog answers pg_catalog / information_schema queries and the
	// system functions; nil sends them to the Executor.
	Catalog Catalog
	Logger  *slog.Logger
	// QueryTimeout bounds one statement; 0 means none.
	QueryTimeout time.Duration
	// ServerVersion is reported as server_version (a PostgreSQL version
	// string: clients parse it to pick features).
	ServerVersion string
	// OnError, when set, is told of every error a statement is answered
	// with (metrics count refusals and failures by code).
	OnError func(error)
}

// Server is the PostgreSQL wire protocol front end.
type Server struct {
	cfg  Config
	exec Executor
	log  *slog.Logger

	mu      sync.Mutex
	ln      net.Listener
	conns   map[uint32]*conn // by process id, for CancelRequest
	nextPID uint32
	closing bool
	wg      sync.WaitGroup
	// baseCtx is the parent of every connection's context; stop cancels
	// running queries when a shutdown deadline passes.
	baseCtx context.Context
	stop    context.CancelFunc
}

// New returns a server that runs statements on exec.
func New(exec Executor, cfg Config) *Server {
	if cfg.AuthMethod == "" {
		cfg.AuthMethod = AuthSCRAM
	}
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = "15.0 (tsgate)"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Server{cfg: cfg, exec: exec, log: cfg.Logger, conns: map[uint32]*conn{}, baseCtx: ctx, stop: stop}
}

// Serve accepts connections on ln until Shutdown. It returns
// net.ErrClosed after a shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.ln = ln
	s.mu.Unlock()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return net.ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c := newConn(s, nc)
			c.serve()
		}()
	}
}

// Shutdown stops accepting, lets running statements finish and closes
// idle sessions; at ctx's deadline it cancels what is still running.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	if s.ln != nil {
		s.ln.Close()
	}
	for _, c := range s.conns {
		c.shutdown()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.stop()
		return nil
	case <-ctx.Done():
		s.stop()
		s.mu.Lock()
		for _, c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

// register gives c a process id and secret key for CancelRequest.
func (s *Server) register(c *conn) bool {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	for {
		s.nextPID++
		if s.nextPID == 0 {
			continue
		}
		if _, used := s.conns[s.nextPID]; !used {
			break
		}
	}
	c.pid = s.nextPID
	c.secret = binary.BigEndian.Uint32(b[:])
	s.conns[c.pid] = c
	return true
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	if s.conns[c.pid] == c {
		delete(s.conns, c.pid)
	}
	s.mu.Unlock()
}

// cancel handles a CancelRequest: the statement running on the session
// with that process id and secret is interrupted in the backend.
func (s *Server) cancel(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.conns[pid]
	s.mu.Unlock()
	if c == nil || len(secret) != 4 {
		return
	}
	var want [4]byte
	binary.BigEndian.PutUint32(want[:], c.secret)
	if subtle.ConstantTimeCompare(want[:], secret) != 1 {
		return
	}
	c.cancelRunning()
}

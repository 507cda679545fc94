package pgwire

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"tsgate/auth"
	"tsgate/errs"
	"tsgate/model"
)

// startupTimeout bounds the whole startup and authentication exchange, so
// a silent client cannot hold a goroutine and a socket forever.
const startupTimeout = 15 * time.Second

// maxMessageLen caps a frontend message body (a query, a Bind).
const maxMessageLen = 64 << 20

// flushThreshold is how much result data is buffered before it is written
// out mid-result.
const flushThreshold = 32 << 10

// conn is one client session: the protocol loop (this file), the session
// state it owns (session.go) and the extended-protocol objects
// (extended.go).
type conn struct {
	srv *Server
	nc  net.Conn
	be  *pgproto3.Backend
	// bw buffers everything written to nc: the Backend's messages when it
	// flushes, and DataRows, which stream writes straight into it.
	bw  *bufio.Writer
	tls bool

	pid, secret uint32
	user, db    string
	// tokenID is the token the session logged in with (empty when
	// authentication is disabled).
	tokenID  string
	settings map[string]string
	txStatus byte
	// skipping is set after an error in the extended protocol: messages
	// are discarded until Sync.
	skipping bool
	stmts    map[string]*prepared
	portals  map[string]*portal
	cursors  map[string]*cursor

	ctx     context.Context
	cancelC context.CancelFunc

	// runMu guards the cancel function of the statement running now.
	runMu     sync.Mutex
	running   context.CancelFunc
	canceled  bool
	busy      atomic.Bool
	shutting  atomic.Bool
	typeMap   *pgtype.Map
	rowBuf    []byte
	scratch   []byte
	vals      []model.Value
	pending   int
	colTypes  []colType
	colFormat []int16
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc, txStatus: 'I', typeMap: pgtype.NewMap()}
	c.bw = bufio.NewWriterSize(nc, flushThreshold)
	c.be = pgproto3.NewBackend(nc, c.bw)
	c.be.SetMaxBodyLen(maxMessageLen)
	c.ctx, c.cancelC = context.WithCancel(s.baseCtx)
	c.resetSession()
	return c
}

func (c *conn) resetSession() {
	c.settings = defaultSettings()
	c.stmts = map[string]*prepared{}
	c.portals = map[string]*portal{}
	c.closeCursors(true)
	c.cursors = map[string]*cursor{}
}

func (c *conn) serve() {
	defer c.nc.Close()
	defer c.cancelC()
	c.nc.SetDeadline(time.Now().Add(startupTimeout))
	if !c.startup() {
		return
	}
	defer c.srv.unregister(c)
	defer c.closeAll()
	c.nc.SetDeadline(time.Time{})
	c.srv.log.Debug("pgwire session", "user", c.user, "database", c.db, "remote", c.nc.RemoteAddr().String())
	for {
		if c.shutting.Load() {
			c.be.Send(fatalResponse("57P01", "terminating connection due to administrator command"))
			c.flushErr()
			return
		}
		msg, err := c.be.Receive()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) {
				c.srv.log.Debug("pgwire receive", "err", err)
				// A malformed message leaves the stream unsynchronized:
				// report it and end the session, as PostgreSQL does.
				c.be.Send(fatalResponse("08P01", "invalid frontend message: "+err.Error()))
				c.flushErr()
			}
			return
		}
		c.busy.Store(true)
		ok := c.handle(msg)
		c.busy.Store(false)
		if !ok {
			return
		}
	}
}

// shutdown asks the session to end: an idle one at once, a busy one after
// its current message.
func (c *conn) shutdown() {
	c.shutting.Store(true)
	if !c.busy.Load() {
		// Unblock Receive; the loop then exits without a reply, like a
		// connection reset by a restarting server.
		c.nc.SetReadDeadline(time.Now())
	}
}

// handle processes one frontend message; false ends the session.
func (c *conn) handle(msg pgproto3.FrontendMessage) bool {
	if c.skipping {
		switch msg.(type) {
		case *pgproto3.Sync:
		case *pgproto3.Terminate:
			return false
		default:
			return true
		}
	}
	switch m := msg.(type) {
	case *pgproto3.Query:
		c.simpleQuery(m.String)
		return c.flush()
	case *pgproto3.Parse:
		c.extended(c.parse(m))
	case *pgproto3.Bind:
		c.extended(c.bind(m))
	case *pgproto3.Describe:
		c.extended(c.describe(m))
	case *pgproto3.Execute:
		c.extended(c.execute(m))
	case *pgproto3.Close:
		c.extended(c.closeMsg(m))
	case *pgproto3.Sync:
		c.skipping = false
		if c.txStatus == 'I' {
			// Sync ends the implicit transaction, and with it every portal.
			c.closePortals()
		}
		c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.txStatus})
		return c.flush()
	case *pgproto3.Flush:
		return c.flush()
	case *pgproto3.Terminate:
		return false
	case *pgproto3.FunctionCall:
		c.extended(sqlErrf(errs.Unsupported, "0A000", "the fastpath function call protocol is not supported"))
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		// Only sent in COPY mode, which we never enter: ignore, as
		// PostgreSQL does for stray copy messages.
	default:
		c.be.Send(fatalResponse("08P01", "unexpected message"))
		c.flush()
		return false
	}
	if c.pending >= flushThreshold {
		return c.flush()
	}
	return true
}

// extended reports an extended-protocol error and enters skip-until-Sync.
func (c *conn) extended(err error) {
	if err == nil {
		return
	}
	c.sendError(err)
	c.skipping = true
}

func (c *conn) sendError(err error) {
	if c.txStatus == 'T' {
		c.txStatus = 'E'
	}
	var e *errs.Error
	if errors.As(err, &e) && (e.Code == errs.Internal) {
		c.srv.log.Warn("pgwire internal error", "err", err)
	}
	if c.srv.cfg.OnError != nil {
		c.srv.cfg.OnError(err)
	}
	c.be.Send(errorResponse(err))
}

func (c *conn) flush() bool {
	c.pending = 0
	return c.flushErr() == nil
}

// flushErr writes out everything sent so far: the Backend's buffer into
// bw, bw to the socket.
func (c *conn) flushErr() error {
	if err := c.be.Flush(); err != nil {
		return err
	}
	return c.bw.Flush()
}

// startup runs the startup exchange: SSL/GSS negotiation, the startup
// message, authentication and the session's ParameterStatus set.
func (c *conn) startup() bool {
	for {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			return false
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if c.srv.cfg.TLS == nil || c.tls {
				if _, err := c.nc.Write([]byte{'N'}); err != nil {
					return false
				}
				continue
			}
			if _, err := c.nc.Write([]byte{'S'}); err != nil {
				return false
			}
			tc := tls.Server(c.nc, c.srv.cfg.TLS)
			if err := tc.HandshakeContext(c.ctx); err != nil {
				c.srv.log.Debug("pgwire tls handshake", "err", err)
				return false
			}
			c.nc, c.tls = tc, true
			c.bw = bufio.NewWriterSize(tc, flushThreshold)
			c.be = pgproto3.NewBackend(tc, c.bw)
			c.be.SetMaxBodyLen(maxMessageLen)
		case *pgproto3.GSSEncRequest:
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return false
			}
		case *pgproto3.CancelRequest:
			c.srv.cancel(m.ProcessID, m.SecretKey)
			return false
		case *pgproto3.StartupMessage:
			return c.login(m)
		default:
			return false
		}
	}
}

func (c *conn) login(m *pgproto3.StartupMessage) bool {
	var unknown []string
	for k, v := range m.Parameters {
		switch k {
		case "user":
			c.user = v
		case "database":
			c.db = v
		case "options", "replication":
			if k == "replication" && v != "false" && v != "0" && v != "off" {
				return c.fatal("08P01", "replication connections are not supported")
			}
		default:
			if strings.HasPrefix(k, "_pq_.") {
				unknown = append(unknown, k)
				continue
			}
			// Anything else is a run-time setting (application_name,
			// DateStyle, client_encoding…), applied like SET.
			if err := c.set(k, v); err != nil {
				return c.fatal(errs.As(err).State(), errs.As(err).Msg)
			}
		}
	}
	if c.user == "" {
		return c.fatal("28000", "no PostgreSQL user name specified in startup packet")
	}
	if c.db == "" {
		c.db = c.user // libpq's rule: the database defaults to the user name
	}
	if m.ProtocolVersion != pgproto3.ProtocolVersion30 || len(unknown) > 0 {
		// We speak 3.0: tell a 3.2 client to fall back, and name the
		// protocol options we ignore.
		c.be.Send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknown})
	}
	if !c.authenticate() {
		return false
	}
	if !arcDatabaseName(c.db) {
		// A session's database is an Arc database. A name Arc refuses
		// holds nothing a client may see — on a PostgreSQL backend it
		// would reach tsgate's own schema _tsgate (the shared token
		// store) — so it does not exist, as PostgreSQL says.
		return c.fatal("3D000", fmt.Sprintf("database %q does not exist", c.db))
	}
	if !c.srv.register(c) {
		return c.fatal("57P03", "the database system is shutting down")
	}
	c.be.Send(&pgproto3.AuthenticationOk{})
	for _, k := range reportedSettings {
		c.be.Send(&pgproto3.ParameterStatus{Name: k, Value: c.show(k)})
	}
	var key [4]byte
	binary.BigEndian.PutUint32(key[:], c.secret)
	c.be.Send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: key[:]})
	c.be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	return c.flush()
}

// authenticate runs the configured method; on failure it has already sent
// the FATAL error.
func (c *conn) authenticate() bool {
	a := c.srv.cfg.Auth
	if a == nil {
		return true
	}
	fail := func() bool {
		c.srv.log.Info("pgwire authentication failed", "user", c.user, "remote", c.nc.RemoteAddr().String())
		return c.fatal("28P01", `password authentication failed for user "`+c.user+`"`)
	}
	if c.srv.cfg.AuthMethod == AuthPassword && c.tls {
		msg, ok := c.exchange(&pgproto3.AuthenticationCleartextPassword{}, pgproto3.AuthTypeCleartextPassword)
		if !ok {
			return false
		}
		pw, ok := msg.(*pgproto3.PasswordMessage)
		if !ok {
			return fail()
		}
		if c.tokenID, ok = a.CheckPassword(pw.Password); !ok {
			return fail()
		}
		return true
	}
	msg, ok := c.exchange(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}}, pgproto3.AuthTypeSASL)
	if !ok {
		return false
	}
	init, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok || init.AuthMechanism != "SCRAM-SHA-256" {
		return c.fatal("28000", "unsupported SASL mechanism")
	}
	sc := &scramServer{auth: a}
	first, err := sc.first(init.Data)
	if err != nil {
		return c.fatal("08P01", err.Error())
	}
	if msg, ok = c.exchange(&pgproto3.AuthenticationSASLContinue{Data: []byte(first)}, pgproto3.AuthTypeSASLContinue); !ok {
		return false
	}
	resp, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return fail()
	}
	final, id, err := sc.final(resp.Data)
	if err != nil {
		return c.fatal("08P01", err.Error())
	}
	if id == "" {
		return fail()
	}
	c.tokenID = id
	c.be.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte(final)})
	return c.be.SetAuthType(pgproto3.AuthTypeOk) == nil
}

// fatal ends the session with a FATAL error (as far as the connection
// still carries it) and reports false, the failed handshake's answer.
func (c *conn) fatal(state, msg string) bool {
	c.be.Send(fatalResponse(state, msg))
	c.flushErr()
	return false
}

// exchange sends an authentication request, tells the backend which
// kind it was (so it can decode the answer) and reads the client's
// answer; ok is false once the connection has failed.
func (c *conn) exchange(req pgproto3.BackendMessage, authType uint32) (msg pgproto3.FrontendMessage, ok bool) {
	c.be.Send(req)
	if c.flushErr() != nil || c.be.SetAuthType(authType) != nil {
		return nil, false
	}
	msg, err := c.be.Receive()
	return msg, err == nil
}

// reader is ctx for a statement that reaches an engine: the session's
// token is looked up again (a revoked token stops at once), it must
// carry read, and the caller travels in the context to the engines'
// guard. With authentication disabled every session may read anything.
func (c *conn) reader(ctx context.Context) (context.Context, error) {
	a := c.srv.cfg.Auth
	if a == nil {
		return auth.WithCaller(ctx, auth.Caller{Admin: true}), nil
	}
	cl, ok := a.Caller(c.tokenID)
	if !ok {
		return nil, sqlErrf(errs.Unauthenticated, "28000", "the token this session logged in with is no longer valid")
	}
	if !cl.Token.Has(auth.Read) {
		return nil, sqlErrf(errs.PermissionDenied, "42501", "permission denied: the token has no read permission")
	}
	return auth.WithCaller(ctx, cl), nil
}

// begin starts a cancelable statement context.
func (c *conn) begin() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(c.ctx)
	if d := c.srv.cfg.QueryTimeout; d > 0 {
		ctx, cancel = context.WithTimeout(ctx, d)
	}
	return ctx, cancel
}

// setRunning records what CancelRequest interrupts; nil when idle.
func (c *conn) setRunning(cancel context.CancelFunc) {
	c.runMu.Lock()
	c.running = cancel
	if cancel != nil {
		c.canceled = false
	}
	c.runMu.Unlock()
}

func (c *conn) cancelRunning() {
	c.runMu.Lock()
	if c.running != nil {
		c.canceled = true
		c.running()
	}
	c.runMu.Unlock()
}

// canceledErr rewrites the error of a statement a CancelRequest stopped
// into PostgreSQL's own message for it.
func (c *conn) canceledErr(err error) error {
	c.runMu.Lock()
	canceled := c.canceled
	c.runMu.Unlock()
	if canceled {
		return &errs.Error{Code: errs.Canceled, SQLState: "57014", Msg: "canceling statement due to user request", Err: err}
	}
	return err
}

func (c *conn) closeAll() {
	c.closePortals()
	c.closeCursors(true)
}

// arcDatabaseName is Arc's rule for database names, which the Arc API
// enforces too: ^[A-Za-z][A-Za-z0-9_-]{0,63}$.
func arcDatabaseName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c|0x20 >= 'a' && c|0x20 <= 'z'
		if !(letter || i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-')) {
			return false
		}
	}
	return true
}

package gateway

import (
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// limitListener caps the connections open on a listener at once. A
// connection over the cap is answered by refuse (a short protocol-level
// refusal: HTTP 503, PostgreSQL 53300) and closed at once, rather than
// left waiting in the kernel's backlog where the client cannot tell a
// busy server from a dead one.
type limitListener struct {
	net.Listener
	slots   chan struct{}
	refuse  []byte
	refused prometheus.Counter
	open    prometheus.Gauge
}

func newLimitListener(ln net.Listener, max int, refuse []byte, refused prometheus.Counter, open prometheus.Gauge) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, max), refuse: refuse, refused: refused, open: open}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			l.open.Inc()
			return &limitConn{Conn: c, release: func() { l.open.Dec(); <-l.slots }}, nil
		default:
			l.refused.Inc()
			go func() {
				c.SetWriteDeadline(time.Now().Add(time.Second))
				c.Write(l.refuse)
				c.Close()
			}()
		}
	}
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// httpBusy is the answer to a connection over an HTTP listener's cap.
func httpBusy() []byte {
	const body = `{"success":false,"error":"too many connections: the server is at http.max_connections; retry shortly"}`
	return []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nRetry-After: 1\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

// pgBusy is PostgreSQL's own answer to one client too many, sent before
// the startup message is read (libpq reports it as the server's FATAL).
func pgBusy() []byte {
	fields := "SFATAL\x00VFATAL\x00C53300\x00Msorry, too many clients already\x00\x00"
	n := 4 + len(fields)
	return append([]byte{'E', byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, fields...)
}

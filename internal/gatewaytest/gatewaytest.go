package gatewaytest

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"tsgate/gateway"
)

// Config is gateway.Default for a test: data in a temporary directory,
// the Arc API on a free loopback port, the pg wire and memtrace listeners
// off (a test that wants one sets 127.0.0.1:0, never the fixed default
// port: tests run side by side) and only errors logged.
func Config(t testing.TB) gateway.Config {
	t.Helper()
	cfg := gateway.Default()
	cfg.DataDir = t.TempDir()
	cfg.Arc.Listen = "127.0.0.1:0"
	cfg.PGWire.Listen = ""
	cfg.Memtrace.Listen = ""
	cfg.Log.Level = "error"
	return cfg
}

// Start runs a gateway with cfg until the test ends; the test fails if
// the gateway cannot start or its Run ends in an error.
func Start(t testing.TB, cfg gateway.Config) *gateway.Gateway {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g, err := gateway.New(ctx, cfg, gateway.NewLogger(cfg.Log, io.Discard), io.Discard)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway run: %v", err)
		}
	})
	return g
}

// ArcBase is the base URL of g's Arc API.
func ArcBase(g *gateway.Gateway) string { return "http://" + g.ArcAddr().String() }

// WaitReady polls base/ready until it answers 200, failing the test
// after within.
func WaitReady(t testing.TB, base string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(base + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway at %s never became ready within %s", base, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

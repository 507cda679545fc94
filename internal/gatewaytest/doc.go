// Package gatewaytest runs real gateways for the tests of other packages
// (memtrace, deploy, bench, cmd/tsgate): the configuration they start
// from, a gateway serving until the test ends, and the wait until it is
// ready. Unlike internal/testenv it links DuckDB, through gateway; the
// gateway package's own tests cannot import it (an import cycle) and keep
// their own copy of Start.
package gatewaytest

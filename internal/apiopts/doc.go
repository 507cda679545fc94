// Package apiopts holds the option defaults tsgate's HTTP APIs (Arc's
// and memtrace's) share: a server built without a logger logs nowhere,
// and one built without a metrics registry keeps its metrics in a
// private registry of its own, so two servers in one process (or in one
// test) never register the same collector twice.
package apiopts

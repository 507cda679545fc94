// Package replicate keeps a second backend in step with the first while a
// migration runs, and protects writes to a remote backend: the dual-writer
// (every batch the primary accepted, queued durably on disk and replayed
// to the secondary in order until it acknowledged it), shadow reads (a
// fraction of queries also run on the secondary and compared by the
// conformance rules), the write guard (bounded rows in flight, retries
// only where they cannot store a row twice) and the Switch, the backend
// the gateway serves from, whose primary and secondary a reload swaps
// without a restart and without losing an acknowledged write.
//
// It is its own package so that this logic, which has to be right under
// crashes, outages and reloads, is read and tested on its own rather than
// between the gateway's wiring. It does not know the gateway's
// configuration: the gateway translates its settings into a Plan,
// WriteLimits and Options, and decides how a backend spec is opened.
package replicate

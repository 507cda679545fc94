// Command arccompare measures tsgate and, when given one, a real Arc side
// by side on loopback (issue #18): the same workloads, interleaved in
// rounds (the order alternates every round), medians over the rounds.
//
// Workloads, each with pre-built bodies of TSBS-like cpu rows (one string
// column, ten float fields, distinct timestamps):
//
//   - msgpack: Arc's columnar MessagePack, 10,000 rows per request, 4
//     clients; rows/s, request p50/p99;
//   - lp10k, lp1k: line protocol, 10,000- and 1,000-row batches, 4
//     connections;
//   - cold start: a new process on an empty data directory until GET
//     /health answers 200 (liveness: the API serves), and until GET /ready
//     does (everything started);
//   - idle RSS: that fresh process's VmRSS after it has been idle a while,
//     and its anonymous and file-backed parts (RssAnon, RssFile: the
//     latter is mostly the executable's pages, so bench/arc-compare.sh
//     copies both binaries the same way before the run);
//   - queries: TSBS's cpu reads in Arc's SQL (double-groupby over all
//     rows and over 12 hours, lastpoint, high-cpu, newest 100) over
//     -query-rows distinct rows written to both sides before the rounds;
//     each round runs each query -query-runs times per side, one client,
//     and records their p50. Both sides must return the same row count;
//     a run where they differ stops with an error;
//   - disk/row: a fresh process ingests a fixed row count (msgpack), is
//     stopped with SIGTERM (so both sides persist everything), and the
//     growth of its data directory is divided by the rows.
//
// Arc acknowledges a write once it is in its in-memory buffer; tsgate
// once the rows are in DuckDB's WAL, or in its buffer with
// -tsgate-env TSGATE_INGEST_DURABILITY=buffer. After every ingest run the
// tool calls the flush route on that side (Arc's commits its buffer,
// tsgate's too in buffer mode) and reports rows/s with the flush counted
// as well, so the two durability points can be compared; the flush also
// keeps one side's background work out of the other's next measurement.
//
// tsgate is the binary given by -tsgate (started with a fresh temporary
// data directory and loopback listeners on free ports). Arc is either
// started by the tool (-arc-bin, run in a fresh temporary directory with
// telemetry off) or an already running one at -arc-url (throughput only;
// cold start, RSS and disk need -arc-bin). Output: a text table on stdout
// and, with -out, results.txt and chart.html (inline SVG) in that
// directory. bench/arc-compare.sh builds and runs it.
package main

// Package arc is the Arc-compatible HTTP API: Arc's write routes (line
// protocol v1/v2/simple, MessagePack), its query routes (the JSON envelope
// byte-compatible with Arc's, MessagePack columnar results, the Arrow IPC
// stream Grafana's datasource reads), SHOW commands, listing endpoints,
// Arc's token API, its management routes (databases, deletes, retention
// policies, continuous queries, estimates, imports; the state and jobs
// live in package manage), health/ready/metrics, Arc's token locations and
// error bodies. It checks queries with Arc's own rules on a token stream
// and hands them to a Backend (the gateway pipeline); it renders errors,
// which carry their code from where they started, only at this edge.
//
// Arrow results come from the backend's own Arrow output where it has one
// (ArrowBackend: the embedded store's DuckDB) and are otherwise built from
// rows in batches of at most 10,000 (arrowrows.go), typed as Arc's DuckDB
// would type the same columns.
package arc

// Package arc is the Arc-compatible HTTP API: Arc's write routes (line
// protocol v1/v2/simple, MessagePack), its query routes (the JSON envelope
// byte-compatible with Arc's, MessagePack columnar results), SHOW commands,
// listing endpoints, health/ready/metrics, Arc's token locations and
// error bodies. It checks queries with Arc's own rules on a token stream
// and hands them to a Backend (the gateway pipeline); it renders errors,
// which carry their code from where they started, only at this edge.
package arc

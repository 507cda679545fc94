// Package arc is a remote Arc (or another tsgate) as a backend: queries
// in DuckDB SQL on /api/v1/query/msgpack, writes as columnar MessagePack
// on /api/v1/write/msgpack, both with the Arc database in the
// x-arc-database header.
package arc

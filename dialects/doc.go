// Package dialects holds what every backend package under it shares: the
// Backend interface the gateway drives. Each subpackage is one backend's
// dialect: its generator (what the translator prints) and, for real
// backends, its executor, writer and schema discovery.
package dialects

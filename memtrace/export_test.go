package memtrace

// RoundTripProperty lets the external tests run the property test against
// a gateway with a real backend.
var RoundTripProperty = roundTripProperty

// SeedEvents and ReadBenchmarks let the external benchmarks seed and time
// a gateway with a real backend.
var (
	SeedEvents     = seedEvents
	ReadBenchmarks = readBenchmarks
	BenchRows      = benchRows
)

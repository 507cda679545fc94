package memtrace

// RoundTripProperty lets the external tests run the property test against
// a gateway with a real backend.
var RoundTripProperty = roundTripProperty

// Package rules holds the conformance comparison rules on their own, so
// the gateway (which conformance imports) can compare shadow reads by the
// same rules without an import cycle. Package conformance re-exports it.
package rules

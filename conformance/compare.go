package conformance

import (
	"tsgate/conformance/rules"
	"tsgate/model"
)

// The comparison rules live in package rules (documented there) so the
// gateway's shadow reads can use them without importing conformance,
// which imports the gateway.

// Rules are how a backend's result is compared with the reference's.
type Rules = rules.Rules

// Result is a query's columns and rows.
type Result = rules.Result

// DefaultRules are the default tolerances.
func DefaultRules() Rules { return rules.DefaultRules() }

// Read drains rows into a Result.
func Read(rows model.Rows) (*Result, error) { return rules.Read(rows) }

// Format prints a value for reports.
func Format(v model.Value) string { return rules.Format(v) }

// FormatRow prints a row for reports.
func FormatRow(r []model.Value) string { return rules.FormatRow(r) }

// Ordered reports whether Arc SQL text has a top-level ORDER BY.
func Ordered(sql string) bool { return rules.Ordered(sql) }

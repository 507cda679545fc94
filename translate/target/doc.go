// Package target is the contract between the translator and the
// generators: the schema a generator may consult, what it returns, and the
// typed refusal it raises. It has no cgo and no parser, so a generator
// package (dialects/...) depends only on it and on translate/ast.
package target

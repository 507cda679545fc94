// Package console is tsgate's web console, served at /ui/ on the Arc
// API's listener: a query editor that shows results as a table and a time
// chart, the query's translation for every backend side by side (with the
// refusals and the steps the gateway runs itself), the conformance matrix
// and live metrics. The page, its script and its style are embedded
// (go:embed) and load nothing from elsewhere; a strict Content-Security-
// Policy keeps it so.
//
// The page is public; everything it shows beyond /metrics comes from
// routes that take an API token (sent as a Bearer token, entered in the
// page): Arc's own query route, and two JSON routes here that need read
// permission — translations (which run nothing: the guard classifies the
// query and checks the caller may read its tables, then the translator
// runs once per generator of dialects/registry) and the conformance
// baseline and last report.
package console

package conformance

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"time"
)

//go:embed cases deviations baseline.json
var corpus embed.FS

// Corpus is the committed case corpus, deviations files and baseline.
func Corpus() fs.FS { return corpus }

// timeRef is {t:+30m}: the dataset's first timestamp plus a duration.
var timeRef = regexp.MustCompile(`\{t:([+-][0-9]+[smh])\}`)

// Expand replaces the time placeholders of every case with literals
// relative to base, as the corpus's absolute-time cases need.
func Expand(cases []Case, base time.Time) ([]Case, error) {
	out := make([]Case, len(cases))
	for i, c := range cases {
		var bad error
		c.SQL = timeRef.ReplaceAllStringFunc(c.SQL, func(m string) string {
			d, err := time.ParseDuration(timeRef.FindStringSubmatch(m)[1])
			if err != nil {
				bad = err
				return m
			}
			return base.Add(d).UTC().Format("2006-01-02T15:04:05Z")
		})
		if bad != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, bad)
		}
		out[i] = c
	}
	return out, nil
}

// DefaultBase is the dataset start the runner uses: three hours before now,
// on the hour, so the data ends at least an hour before now and the
// relative-time cases see all of it or none of it.
func DefaultBase(now time.Time) time.Time { return now.UTC().Truncate(time.Hour).Add(-3 * time.Hour) }

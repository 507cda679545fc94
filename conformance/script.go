package conformance

import (
	"bufio"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Case is one query of the corpus.
type Case struct {
	// Name is unique: file stem / case name [#variation].
	Name string
	// SQL is Arc SQL, run as written on the reference.
	SQL string
	// Tags classify the case: "sql-only" marks constructs outside the
	// InfluxQL/Flux subset (joins, subqueries, CTEs, windows, …);
	// "unordered" compares rows as a multiset even under ORDER BY (ties);
	// "varies" marks a case whose reference answer differs between runs
	// (SQL leaves it open: a float sum over DISTINCT values depends on
	// the order they are added in, and DuckDB's is its hash table's), so
	// a backend passes on any answer the reference gives in its runs.
	Tags []string
	// File and Line locate the case for reports.
	File string
	Line int
}

// Has reports whether the case carries tag.
func (c *Case) Has(tag string) bool {
	for _, t := range c.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// ParseCases reads every *.test file under dir of fsys.
//
// A file is a list of blocks separated by blank lines. A block is
//
//	# comment lines (ignored)
//	-- name: memtrace/list-agent
//	-- tags: sql-only unordered varies   (optional)
//	-- vary: agent=agent_0,agent_1       (optional, repeatable; | separates
//	                                      values that hold commas)
//	SELECT … WHERE agent_id = '{agent}'
//
// Each vary line multiplies the case: one case per value, with {key}
// replaced in the SQL and "#key=value" appended to the name, so one shape
// runs with several literals. Expected results are the reference's.
func ParseCases(fsys fs.FS, dir string) ([]Case, error) {
	var files []string
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".test") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Case
	seen := map[string]string{}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		cs, err := parseFile(f, string(data))
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if prev, dup := seen[c.Name]; dup {
				return nil, fmt.Errorf("%s:%d: case %q already defined at %s", f, c.Line, c.Name, prev)
			}
			seen[c.Name] = fmt.Sprintf("%s:%d", f, c.Line)
			out = append(out, c)
		}
	}
	return out, nil
}

type variation struct {
	key    string
	values []string
}

func parseFile(file, text string) ([]Case, error) {
	stem := strings.TrimSuffix(path.Base(file), ".test")
	var out []Case
	var name string
	var tags []string
	var vary []variation
	var sql []string
	startLine := 0
	flush := func() error {
		if name == "" && len(sql) == 0 {
			return nil
		}
		if name == "" {
			return fmt.Errorf("%s:%d: query without a '-- name:' line", file, startLine)
		}
		if len(sql) == 0 {
			return fmt.Errorf("%s:%d: case %q has no SQL", file, startLine, name)
		}
		base := Case{Name: stem + "/" + name, SQL: strings.Join(sql, "\n"), Tags: tags, File: file, Line: startLine}
		cases := []Case{base}
		for _, v := range vary {
			var next []Case
			for _, c := range cases {
				ph := "{" + v.key + "}"
				if !strings.Contains(c.SQL, ph) {
					return fmt.Errorf("%s:%d: vary %s: the SQL has no %s", file, startLine, v.key, ph)
				}
				for _, val := range v.values {
					n := c
					n.Name = c.Name + "#" + v.key + "=" + val
					n.SQL = strings.ReplaceAll(c.SQL, ph, val)
					next = append(next, n)
				}
			}
			cases = next
		}
		out = append(out, cases...)
		name, tags, vary, sql = "", nil, nil, nil
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		l := strings.TrimRight(sc.Text(), " \t\r")
		switch {
		case strings.TrimSpace(l) == "":
			if err := flush(); err != nil {
				return nil, err
			}
		case strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "-- name:"):
			if name != "" || len(sql) > 0 {
				if err := flush(); err != nil {
					return nil, err
				}
			}
			name = strings.TrimSpace(strings.TrimPrefix(l, "-- name:"))
			startLine = line
		case strings.HasPrefix(l, "-- tags:"):
			tags = append(tags, strings.Fields(strings.TrimPrefix(l, "-- tags:"))...)
		case strings.HasPrefix(l, "-- vary:"):
			k, vals, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(l, "-- vary:")), "=")
			if !ok || k == "" || vals == "" {
				return nil, fmt.Errorf("%s:%d: vary wants key=v1,v2,…", file, line)
			}
			// Values are comma-separated, or |-separated when a value
			// itself holds commas (an IN list).
			sep := ","
			if strings.Contains(vals, "|") {
				sep = "|"
			}
			vary = append(vary, variation{key: k, values: strings.Split(vals, sep)})
		default:
			if startLine == 0 {
				startLine = line
			}
			sql = append(sql, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

package translate

import (
	"tsgate/translate/target"
)

// StaticSchema is a literal schema: for tests and the CLI's --schema file
// (which cmd/tsgate parses).
type StaticSchema struct {
	// Measurements maps "measurement" or "db.measurement" to its columns.
	Measurements map[string][]target.ColumnInfo
	Ver          uint64
}

var _ target.Schema = (*StaticSchema)(nil)

func (s *StaticSchema) Columns(database, measurement string) ([]target.ColumnInfo, bool) {
	if database != "" {
		if c, ok := s.Measurements[database+"."+measurement]; ok {
			return c, true
		}
	}
	c, ok := s.Measurements[measurement]
	return c, ok
}

func (s *StaticSchema) Version() uint64 { return s.Ver }

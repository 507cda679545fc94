package model

// Arc's rules for names, which every front end enforces the same way:
// measurement and database names become directory and object-store key
// segments on Arc, so they are ^[a-zA-Z][a-zA-Z0-9_-]*$ and short.
const (
	// MaxMeasurementLen is Arc's limit on a measurement name, in bytes.
	MaxMeasurementLen = 128
	// MaxDatabaseLen is Arc's limit on a database name, in bytes.
	MaxDatabaseLen = 64
)

// ValidMeasurement reports whether name is a measurement name Arc
// accepts. It takes bytes too, so decoders check names without
// allocating.
func ValidMeasurement[S ~string | ~[]byte](name S) bool { return validName(name, MaxMeasurementLen) }

// ValidDatabase reports whether name is a database name Arc accepts.
func ValidDatabase(name string) bool { return validName(name, MaxDatabaseLen) }

func validName[S ~string | ~[]byte](name S, max int) bool {
	if len(name) == 0 || len(name) > max {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

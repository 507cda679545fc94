package pgwire

import (
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"tsgate/model"
)

// TestColumnType covers each backend's way of naming its result types:
// DuckDB's, PostgreSQL's canonical names, ClickHouse's and Flux's (which
// only the model type can interpret), and none at all.
func TestColumnType(t *testing.T) {
	for _, c := range []struct {
		backendType string
		typ         model.FieldType
		want        uint32
	}{
		{"INTEGER", model.TypeInt, pgtype.Int4OID},
		{"BIGINT", model.TypeInt, pgtype.Int8OID},
		{"DECIMAL(18,3)", model.TypeText, pgtype.NumericOID},
		{"TIMESTAMP WITH TIME ZONE", model.TypeTime, pgtype.TimestamptzOID},
		{"INTERVAL", model.TypeText, pgtype.TextOID},
		{"INTEGER[]", model.TypeText, pgtype.TextOID},
		// PostgreSQL backend (dialects/postgres names).
		{"double precision", model.TypeFloat, pgtype.Float8OID},
		{"real", model.TypeFloat, pgtype.Float4OID},
		{"timestamptz", model.TypeTime, pgtype.TimestamptzOID},
		{"timestamp", model.TypeTime, pgtype.TimestampOID},
		{"character varying", model.TypeString, pgtype.VarcharOID}, // as PostgreSQL says
		{"VARCHAR", model.TypeString, pgtype.TextOID},              // DuckDB's one string type
		{"_tsgate.uint64", model.TypeUint, pgtype.NumericOID},
		{"oid:1186", model.TypeText, pgtype.TextOID},
		// ClickHouse and Flux.
		{"Float64", model.TypeFloat, pgtype.Float8OID},
		{"Nullable(Int64)", model.TypeInt, pgtype.Int8OID},
		{"UInt64", model.TypeUint, pgtype.NumericOID},
		{"DateTime", model.TypeTime, pgtype.TimestamptzOID},
		{"String", model.TypeString, pgtype.TextOID},
		{"double", model.TypeFloat, pgtype.Float8OID},
		{"long", model.TypeInt, pgtype.Int8OID},
		{"boolean", model.TypeBool, pgtype.BoolOID},
		{"dateTime:RFC3339", model.TypeTime, pgtype.TimestamptzOID},
		// Rows the gateway builds.
		{"", model.TypeFloat, pgtype.Float8OID},
		{"", model.TypeString, pgtype.TextOID},
	} {
		t.Run(c.backendType+"/"+c.typ.String(), func(t *testing.T) {
			if got := columnType(model.ResultColumn{Name: "c", Type: c.typ, BackendType: c.backendType}).oid; got != c.want {
				t.Errorf("oid %d, want %d", got, c.want)
			}
		})
	}
}

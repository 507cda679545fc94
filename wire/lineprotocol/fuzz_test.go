package lineprotocol

import (
	"testing"

	bt "tsgate/internal/batchtest"
	"tsgate/model"
)

// FuzzParse: never panics, every error (returned or recorded) is an
// *errs.Error, and a successful batch has only valid, non-empty tables.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"cpu,host=a,region=us usage_idle=90.5,usage_user=2i,s=\"x\\\"y\",b=t 1700000000000000000",
		"m,t\\ k=v\\,1 f\\=k=1u\nm v=NaN -1\r\n# c\n",
		"m v=\"a b, c=d\" 1\nm v=1i\nm,v=x v=2",
		"m,a=1,a=2 b=1,b=2,a=3",
	} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, in string, prec uint8) {
		var b model.Batch
		err := Parse([]byte(in), Precision(prec%4), now, &b)
		if bt.Decoded(t, &b, err) && b.Rows() == 0 {
			t.Fatal("success without rows")
		}
	})
}

package msgpack

import (
	"encoding/binary"
	"io"
	"math"

	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"tsgate/model"
)

// The fast paths below read a column's values straight from the payload
// bytes while they are of the kinds columns are made of (floats, integers,
// short strings, booleans, nils) and fit the column's type so far. The
// first value they do not handle — another kind, a type change, a value
// that needs an error message, a truncated payload — is left where it is
// for the general path (valueColumn, timeColumn), which decodes it through
// the msgpack.Decoder with every check. Both read the same bytes.Reader,
// so the fast paths only move its position.

func (d *decoder) pos() int { return len(d.data) - d.r.Len() }

func (d *decoder) seek(p int) { d.r.Seek(int64(p), io.SeekStart) }

// fixedInt reads the integer at data[p] (code c); size is the bytes it
// takes, 0 when c is not an integer the fast path reads or the payload
// ends first. A uint64 above MaxInt64 is left to the general path.
func fixedInt(data []byte, p int, c byte) (v int64, size int) {
	switch {
	case c <= msgpcode.PosFixedNumHigh:
		return int64(c), 1
	case c >= msgpcode.NegFixedNumLow:
		return int64(int8(c)), 1
	}
	var n int
	switch c {
	case msgpcode.Uint8, msgpcode.Int8:
		n = 1
	case msgpcode.Uint16, msgpcode.Int16:
		n = 2
	case msgpcode.Uint32, msgpcode.Int32:
		n = 4
	case msgpcode.Uint64, msgpcode.Int64:
		n = 8
	default:
		return 0, 0
	}
	if p+1+n > len(data) {
		return 0, 0
	}
	b := data[p+1 : p+1+n]
	switch c {
	case msgpcode.Uint8:
		v = int64(b[0])
	case msgpcode.Int8:
		v = int64(int8(b[0]))
	case msgpcode.Uint16:
		v = int64(binary.BigEndian.Uint16(b))
	case msgpcode.Int16:
		v = int64(int16(binary.BigEndian.Uint16(b)))
	case msgpcode.Uint32:
		v = int64(binary.BigEndian.Uint32(b))
	case msgpcode.Int32:
		v = int64(int32(binary.BigEndian.Uint32(b)))
	case msgpcode.Uint64:
		u := binary.BigEndian.Uint64(b)
		if u > math.MaxInt64 {
			return 0, 0
		}
		v = int64(u)
	case msgpcode.Int64:
		v = int64(binary.BigEndian.Uint64(b))
	}
	return v, 1 + n
}

// fastValues decodes values k… of a field column and returns the index
// of the first one it left to the general path (n when none).
func (d *decoder) fastValues(cb *colBuf, k, n int) int {
	if d.general {
		return k
	}
	data, p := d.data, d.pos()
	defer func() { d.seek(p) }()
	for ; k < n && p < len(data); k++ {
		c := data[p]
		switch {
		case c == msgpcode.Nil:
			cb.nulls++
			p++
			continue
		case c == msgpcode.Double || c == msgpcode.Float:
			if cb.typ != model.TypeFloat && cb.typ != model.TypeUnknown {
				return k
			}
			var v float64
			if c == msgpcode.Double {
				if p+9 > len(data) {
					return k
				}
				v = math.Float64frombits(binary.BigEndian.Uint64(data[p+1:]))
				p += 9
			} else {
				if p+5 > len(data) {
					return k
				}
				v = float64(math.Float32frombits(binary.BigEndian.Uint32(data[p+1:])))
				p += 5
			}
			settle(cb, &cb.f, model.TypeFloat, n)
			cb.f[k] = v
		case msgpcode.IsString(c):
			if cb.typ != model.TypeString && cb.typ != model.TypeUnknown {
				return k
			}
			var ln, hdr int
			switch {
			case msgpcode.IsFixedString(c):
				ln, hdr = int(c&msgpcode.FixedStrMask), 1
			case c == msgpcode.Str8 && p+2 <= len(data):
				ln, hdr = int(data[p+1]), 2
			case c == msgpcode.Str16 && p+3 <= len(data):
				ln, hdr = int(binary.BigEndian.Uint16(data[p+1:])), 3
			default:
				return k
			}
			if p+hdr+ln > len(data) {
				return k
			}
			settle(cb, &cb.s, model.TypeString, n)
			cb.s[k] = d.intern(data[p+hdr : p+hdr+ln])
			p += hdr + ln
		case c == msgpcode.True || c == msgpcode.False:
			if cb.typ != model.TypeBool && cb.typ != model.TypeUnknown {
				return k
			}
			settle(cb, &cb.b, model.TypeBool, n)
			cb.b[k] = c == msgpcode.True
			p++
		default:
			// Integers into an integer column only: widening to float,
			// uint64 columns and the sign checks are the general path's.
			if cb.big || (cb.typ != model.TypeInt && cb.typ != model.TypeUnknown) {
				return k
			}
			v, size := fixedInt(data, p, c)
			if size == 0 {
				return k
			}
			settle(cb, &cb.i, model.TypeInt, n)
			cb.i[k] = v
			cb.neg = cb.neg || v < 0
			p += size
		}
		cb.valid[k] = true
	}
	return k
}

// fastTimes decodes integer timestamps k… of the time column in unit
// (0: guess from the first) and returns the index of the first value it
// left to the general path, and the unit.
func (d *decoder) fastTimes(cb *colBuf, k, n int, unit int64) (int, int64) {
	if cb.err != nil || d.general {
		return k, unit // the general path words errors; keep its order
	}
	data, p := d.data, d.pos()
	defer func() { d.seek(p) }()
	for ; k < n && p < len(data); k++ {
		v, size := fixedInt(data, p, data[p])
		if size == 0 {
			return k, unit
		}
		u := unit
		if u == 0 {
			u = guessUnit(v)
		}
		us, ok := scale(v, u)
		if !ok {
			return k, unit
		}
		unit = u
		cb.i[k] = us
		p += size
	}
	return k, unit
}

// intern returns b as a string, shared with earlier equal short strings
// (as str does).
func (d *decoder) intern(b []byte) string {
	if len(b) <= maxInternLen {
		if s, ok := d.strs[string(b)]; ok {
			return s
		}
	}
	s := sanitize(b)
	if len(b) <= maxInternLen && len(d.strs) < maxInterned {
		d.strs[s] = s
	}
	return s
}

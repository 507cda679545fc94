package sqltime

import (
	"errors"
	"strconv"
	"strings"
)

// Interval is a parsed interval: calendar months, calendar days and a
// fixed part in microseconds, PostgreSQL's representation.
type Interval struct {
	Months int32
	Days   int32
	Micros int64
}

var errInterval = errors.New("not an interval")

type unitInfo struct {
	micros int64 // fixed units
	days   int32 // day, week
	months int32 // month, year
}

var units = map[string]unitInfo{
	"us": {micros: 1}, "usec": {micros: 1}, "usecs": {micros: 1}, "microsecond": {micros: 1}, "microseconds": {micros: 1},
	"ms": {micros: 1e3}, "msec": {micros: 1e3}, "msecs": {micros: 1e3}, "millisecond": {micros: 1e3}, "milliseconds": {micros: 1e3},
	"s": {micros: 1e6}, "sec": {micros: 1e6}, "secs": {micros: 1e6}, "second": {micros: 1e6}, "seconds": {micros: 1e6},
	"m": {micros: 60e6}, "min": {micros: 60e6}, "mins": {micros: 60e6}, "minute": {micros: 60e6}, "minutes": {micros: 60e6},
	"h": {micros: 3600e6}, "hr": {micros: 3600e6}, "hrs": {micros: 3600e6}, "hour": {micros: 3600e6}, "hours": {micros: 3600e6},
	"d": {days: 1}, "day": {days: 1}, "days": {days: 1},
	"w": {days: 7}, "week": {days: 7}, "weeks": {days: 7},
	"mon": {months: 1}, "mons": {months: 1}, "month": {months: 1}, "months": {months: 1},
	"y": {months: 12}, "yr": {months: 12}, "yrs": {months: 12}, "year": {months: 12}, "years": {months: 12},
}

// ParseInterval reads '<number> <unit>' groups ('1 day 2 hours', '5m',
// '300.000s', '24 hours') and 'HH:MM:SS'. Fractions are accepted for fixed
// units when they are whole microseconds; fractional days, weeks, months
// and years are refused (PostgreSQL spreads them into smaller units by
// conventions other engines do not share).
func ParseInterval(s string) (Interval, error) {
	var iv Interval
	s = strings.TrimSpace(s)
	if s == "" {
		return iv, errInterval
	}
	if strings.Count(s, ":") == 2 && !strings.ContainsAny(s, " \t") {
		return parseClock(s)
	}
	i := 0
	for i < len(s) {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) {
			break
		}
		j := i
		if s[j] == '-' || s[j] == '+' {
			j++
		}
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		num := s[i:j]
		if num == "" || num == "-" || num == "+" {
			return iv, errInterval
		}
		for j < len(s) && s[j] == ' ' {
			j++
		}
		k := j
		for k < len(s) && (s[k]|0x20 >= 'a' && s[k]|0x20 <= 'z') {
			k++
		}
		u, ok := units[strings.ToLower(s[j:k])]
		if !ok {
			return iv, errInterval
		}
		if u.micros > 0 {
			us, err := scaleDecimal(num, u.micros)
			if err != nil {
				return iv, err
			}
			iv.Micros += us
		} else {
			n, err := strconv.ParseInt(num, 10, 32)
			if err != nil {
				return iv, errInterval
			}
			iv.Days += int32(n) * u.days
			iv.Months += int32(n) * u.months
		}
		i = k
	}
	return iv, nil
}

func parseClock(s string) (Interval, error) {
	parts := strings.Split(s, ":")
	h, err1 := strconv.ParseInt(parts[0], 10, 32)
	m, err2 := strconv.ParseInt(parts[1], 10, 32)
	sec, err3 := scaleDecimal(parts[2], 1e6)
	if err1 != nil || err2 != nil || err3 != nil || m < 0 || m > 59 || sec < 0 || sec >= 60e6 {
		return Interval{}, errInterval
	}
	return Interval{Micros: h*3600e6 + m*60e6 + sec}, nil
}

// scaleDecimal multiplies a decimal string by unit, failing unless the
// result is a whole number.
func scaleDecimal(num string, unit int64) (int64, error) {
	neg := false
	if num[0] == '-' || num[0] == '+' {
		neg = num[0] == '-'
		num = num[1:]
	}
	intPart, frac, _ := strings.Cut(num, ".")
	if intPart == "" && frac == "" {
		return 0, errInterval
	}
	var v int64
	if intPart != "" {
		n, err := strconv.ParseInt(intPart, 10, 64)
		if err != nil || n > (1<<62)/unit {
			return 0, errInterval
		}
		v = n * unit
	}
	scale := unit
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0, errInterval
		}
		d := int64(c - '0')
		if scale%10 != 0 {
			if d != 0 {
				return 0, errors.New("interval is not a whole number of microseconds")
			}
			continue
		}
		scale /= 10
		v += d * scale
	}
	if neg {
		v = -v
	}
	return v, nil
}

// Timestamp is an instant parsed from text: seconds since the Unix epoch
// and nanoseconds within the second. Nanos are kept so a caller comparing
// against µs storage can round in the direction that preserves the
// comparison.
type Timestamp struct {
	Sec   int64
	Nanos int32
}

// Micros floors t to microseconds.
func (t Timestamp) Micros() int64 { return t.Sec*1e6 + int64(t.Nanos)/1000 }

// SubMicro reports whether t has a sub-microsecond part.
func (t Timestamp) SubMicro() bool { return t.Nanos%1000 != 0 }

var errTimestamp = errors.New("not a timestamp")

// ParseTimestamp reads 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS[.fraction]]'
// with 'T' or a space, and an optional zone: Z, +HH, +HH:MM, +HHMM or
// ' UTC'. A value without a zone is UTC: tsgate runs every backend session
// in UTC, so that is how each of them reads it too.
func ParseTimestamp(s string) (Timestamp, error) {
	s = strings.TrimSpace(s)
	num := func(i, n int) (int, bool) {
		if i+n > len(s) {
			return 0, false
		}
		v := 0
		for k := i; k < i+n; k++ {
			if s[k] < '0' || s[k] > '9' {
				return 0, false
			}
			v = v*10 + int(s[k]-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return Timestamp{}, errTimestamp
	}
	var hh, mm, ss, nanos, off int
	i := 10
	if i < len(s) && (s[i] == 'T' || s[i] == ' ') && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
		var ok bool
		if hh, ok = num(i+1, 2); !ok || i+3 >= len(s) || s[i+3] != ':' {
			return Timestamp{}, errTimestamp
		}
		if mm, ok = num(i+4, 2); !ok {
			return Timestamp{}, errTimestamp
		}
		i += 6
		if i < len(s) && s[i] == ':' {
			if ss, ok = num(i+1, 2); !ok {
				return Timestamp{}, errTimestamp
			}
			i += 3
			if i < len(s) && s[i] == '.' {
				i++
				digits := 0
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					if digits == 9 {
						return Timestamp{}, errors.New("timestamp has more than nanosecond precision")
					}
					nanos = nanos*10 + int(s[i]-'0')
					digits++
					i++
				}
				if digits == 0 {
					return Timestamp{}, errTimestamp
				}
				for ; digits < 9; digits++ {
					nanos *= 10
				}
			}
		}
		if hh > 23 || mm > 59 || ss > 59 {
			return Timestamp{}, errTimestamp
		}
	}
	rest := s[i:]
	switch {
	case rest == "" || rest == "Z" || rest == "z" || rest == "+00" || rest == " UTC" || rest == "+00:00" || rest == " +00:00":
	case (rest[0] == '+' || rest[0] == '-') && (len(rest) == 3 || len(rest) == 5 || len(rest) == 6):
		h, ok := num(i+1, 2)
		m := 0
		if len(rest) == 5 {
			m, ok = num(i+3, 2)
		} else if len(rest) == 6 {
			if rest[3] != ':' {
				return Timestamp{}, errTimestamp
			}
			m, ok = num(i+4, 2)
		}
		if !ok || h > 15 || m > 59 {
			return Timestamp{}, errTimestamp
		}
		off = h*3600 + m*60
		if rest[0] == '-' {
			off = -off
		}
	default:
		return Timestamp{}, errTimestamp
	}
	sec := daysFromCivil(y, mo, d)*86400 + int64(hh*3600+mm*60+ss) - int64(off)
	return Timestamp{Sec: sec, Nanos: int32(nanos)}, nil
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is Howard Hinnant's algorithm: days since 1970-01-01.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

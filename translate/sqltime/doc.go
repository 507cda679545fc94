// Package sqltime parses the interval and timestamp strings SQL clients
// write, exactly: a value that cannot be represented without rounding is an
// error, never an approximation.
package sqltime

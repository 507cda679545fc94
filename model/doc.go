// Package model holds the data types every layer of tsgate shares: a
// decoded write (Batch, Table, Column — columnar, typed, sparse-aware) and a
// query result (Rows of typed Values). It has no dependencies so decoders,
// dialects and front ends can all import it.
package model

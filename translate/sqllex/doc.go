// Package sqllex is tsgate's one SQL lexer. It follows PostgreSQL's
// lexical rules (standard strings where a quote doubles, E” strings with
// backslash escapes, B”/X”/N” and U&” strings, dollar quoting,
// "quoted identifiers", nested block comments, $n parameters), with a
// DuckDB option for what DuckDB's lexer adds (? and $name parameters).
//
// It finds token boundaries; it never decides what a statement is — that
// is a real parser's job (pg_query for PostgreSQL, DuckDB's own for Arc
// SQL). Its users need only the boundaries: splitting a simple Query into
// statements, lifting literals out for the parse cache, binding $n
// parameters, and the pg-wire catalog rewriter, which must never touch
// text inside a literal or a comment.
//
// Every byte of the input belongs to exactly one token or to the space
// and comments between them; an unterminated literal or comment is a Bad
// token running to the end of the text, which the parser then rejects.
package sqllex

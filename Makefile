# tsgate — see README.md. Every target works on a fresh Debian machine with Go.
GO        ?= go
BIN       ?= bin/tsgate
PKGS      ?= ./...
BENCHTIME ?= 1x
# duckdb_arrow: the embedded store streams DuckDB's own Arrow output on
# /api/v1/query/arrow (duckdb-go's Arrow interface is behind this tag).
TAGS      ?= duckdb_arrow

.PHONY: build run test bench lint fuzz clean

# The release build the container image runs too (trimmed, stripped, versioned).
build:
	TAGS='$(TAGS)' ./scripts/build.sh $(BIN)

# Serve on the embedded DuckDB store (data in ./data, Arc API on :8000).
run:
	./scripts/run.sh

# The whole test suite: installs and starts what the tests need, then runs them.
test:
	./scripts/test.sh

bench:
	$(GO) test -tags '$(TAGS)' -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)

lint:
	./scripts/lint.sh

# Short fuzz pass over every decoder and parser (FUZZTIME each).
FUZZTIME ?= 30s
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf bin

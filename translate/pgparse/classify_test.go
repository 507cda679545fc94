package pgparse

import (
	"testing"

	"tsgate/errs"
)

func TestClassify(t *testing.T) {
	for sql, want := range map[string]Kind{
		"SELECT 1":                             KindQuery,
		"select load, copy from attach":        KindQuery,
		"WITH a AS (SELECT 1) SELECT * FROM a": KindQuery,
		"VALUES (1)":                           KindQuery,
		"TABLE cpu":                            KindQuery,
		"SELECT 1 UNION SELECT 2":              KindQuery,
		"SELECT * INTO t2 FROM cpu":            KindOther,
		"SELECT * FROM cpu FOR UPDATE":         KindOther,
		"SELECT 1 UNION (SELECT 2 FOR SHARE)":  KindOther,
		"WITH d AS (DELETE FROM cpu RETURNING *) SELECT * FROM d": KindOther,
		"EXPLAIN SELECT 1":                         KindExplain,
		"EXPLAIN ANALYZE SELECT 1":                 KindExplain,
		"EXPLAIN ANALYZE DELETE FROM cpu":          KindOther,
		"SET search_path = x":                      KindSet,
		"SET LOCAL statement_timeout = 0":          KindSet,
		"RESET ALL":                                KindSet,
		"SHOW server_version":                      KindShow,
		"BEGIN":                                    KindTransaction,
		"START TRANSACTION READ ONLY":              KindTransaction,
		"COMMIT":                                   KindTransaction,
		"ROLLBACK":                                 KindTransaction,
		"SAVEPOINT a":                              KindTransaction,
		"DISCARD ALL":                              KindDiscard,
		"DECLARE c CURSOR WITH HOLD FOR SELECT 1":  KindDeclare,
		"DECLARE c CURSOR FOR SELECT 1 FOR UPDATE": KindOther,
		"FETCH 10 FROM c":                          KindFetch,
		"MOVE NEXT IN c":                           KindFetch,
		"CLOSE ALL":                                KindClose,
		"DEALLOCATE ALL":                           KindDeallocate,
		"CREATE TABLE x (a int)":                   KindOther,
		"COPY cpu TO '/tmp/x'":                     KindOther,
		"INSERT INTO cpu VALUES (1)":               KindOther,
		"PREPARE p AS SELECT 1":                    KindOther,
		"EXECUTE p":                                KindOther,
		"LISTEN x":                                 KindListen,
		"UNLISTEN *":                               KindListen,
		"SHOW TABLES":                              KindArc,
		"show measurements from db1":               KindArc,
		"DESCRIBE cpu":                             KindArc,
		"DO $$ BEGIN END $$":                       KindOther,
		"CALL p()":                                 KindOther,
		"LOCK TABLE cpu":                           KindOther,
	} {
		c, err := Classify(sql)
		if err != nil {
			t.Errorf("%s: %v", sql, err)
			continue
		}
		if c.Kind != want {
			t.Errorf("%s: %v (%s), want %v", sql, c.Kind, c.Statement, want)
		}
	}
	for _, bad := range []string{"SELECT 1; SELECT 2", "SELEC 1", ""} {
		if _, err := Classify(bad); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%q: %v, want Invalid", bad, err)
		}
	}
	if c, _ := Classify("CREATE TABLE x (a int)"); c.Statement != "CreateStmt" {
		t.Errorf("statement name %q", c.Statement)
	}
}

package manage

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"tsgate/errs"
	"tsgate/internal/testenv"
	"tsgate/model"
	"tsgate/translate/ast"
)

// emptyEngine answers every query with no rows and stores nothing: the
// jobs here are about who runs them, not what they compute (the gateway's
// tests run them against real backends).
type emptyEngine struct{}

func (emptyEngine) Query(context.Context, string, string) (model.Rows, error) {
	return &model.SliceRows{Cols: []model.ResultColumn{{Name: "n", Type: model.TypeInt}}}, nil
}
func (emptyEngine) Write(context.Context, string, *model.Batch) (model.WriteResult, error) {
	return model.WriteResult{}, nil
}
func (emptyEngine) Databases(context.Context) ([]string, error)                { return nil, nil }
func (emptyEngine) Measurements(context.Context, string) ([]string, error)     { return nil, nil }
func (emptyEngine) DeleteRows(context.Context, string, string, ast.Expr) error { return nil }
func (emptyEngine) DropDatabase(context.Context, string) error                 { return nil }
func noCheck(context.Context, string, string) error                            { return nil }

// TestSharedStateJobs: two managers on one PostgreSQL store (two
// replicas). A job is held by one at a time; the scheduler's due test is
// asked again once the job is held, so a replica that found a query due
// before the other ran it does not run it again; a save that lost a race
// is a conflict, and the next operation reads the winner's state.
func TestSharedStateJobs(t *testing.T) {
	ctx := context.Background()
	url := testenv.PostgresDB(t, "tsgate_manage")
	var ms []*Manager
	for range 2 {
		m, err := OpenPostgres(ctx, url, emptyEngine{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		ms = append(ms, m)
	}
	q, err := ms[0].CreateCQ(ctx, CQRequest{Name: "q", Database: "db", SourceMeasurement: "cpu", DestinationMeasurement: "out",
		Query: "SELECT 1 WHERE {start_time} < {end_time}", Interval: "1h", IsActive: true}, noCheck)
	if err != nil {
		t.Fatal(err)
	}
	// Replica 1's scheduler finds it due (never run)...
	due := func(q ContinuousQuery) bool { return q.LastExecutionTime == nil }
	if got := ms[1].CQs("", "true"); len(got) != 1 || !due(got[0]) {
		t.Fatalf("replica 1 sees %+v", got)
	}
	// ...replica 0 runs it meanwhile...
	if _, err := ms[0].ExecuteCQ(ctx, q.ID, CQWindow{}); err != nil {
		t.Fatal(err)
	}
	// ...so replica 1, holding it now, finds it not due any more.
	if _, err := ms[1].ExecuteCQ(ctx, q.ID, CQWindow{due: due}); !errors.Is(err, errNotDue) {
		t.Errorf("replica 1 ran a query replica 0 had just run: %v", err)
	}
	// While one replica holds a job, the other cannot take it.
	release, err := cqRecords().claim(ctx, ms[0], q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ms[1].ExecuteCQ(ctx, q.ID, CQWindow{}); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("replica 1 ran a query replica 0 holds: %v", err)
	}
	release()
	if _, err := ms[1].ExecuteCQ(ctx, q.ID, CQWindow{}); err != nil {
		t.Errorf("after the release: %v", err)
	}
	if ex, err := ms[0].CQExecutions(q.ID, 10); err != nil || len(ex) != 2 {
		t.Errorf("executions seen by replica 0: %d %v, want 2", len(ex), err)
	}
	// A save against a version another replica replaced is refused, not
	// merged; the next operation reads the newer state.
	ms[0].lock()
	stale := ms[0].version
	ms[0].unlock()
	if _, err := ms[1].CreateRetention(RetentionRequest{Name: "r", Database: "db", RetentionDays: 3}); err != nil {
		t.Fatal(err)
	}
	ms[0].mu.Lock()
	ms[0].version = stale
	ms[0].state.Databases = map[string]time.Time{"lost": time.Now()}
	err = ms[0].save()
	ms[0].mu.Unlock()
	if errs.CodeOf(err) != errs.Conflict {
		t.Errorf("stale save: %v, want a conflict", err)
	}
	if got := ms[0].Retentions(); len(got) != 1 || got[0].Name != "r" {
		t.Errorf("after the lost race replica 0 reads %+v", got)
	}
	if _, ok := ms[0].DatabaseCreated("lost"); ok {
		t.Error("the lost write survived")
	}
}

// TestFileState: one gateway's state survives a reopen of its file.
func TestFileState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "arc-manage.json")
	m, err := Open(path, emptyEngine{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreateRetention(RetentionRequest{Name: "r", Database: "db", RetentionDays: 3}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	m, err = Open(path, emptyEngine{})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Retentions(); len(got) != 1 || got[0].ID != 1 {
		t.Errorf("reopened: %+v", got)
	}
}

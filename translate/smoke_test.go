package translate

import (
	"context"
	"testing"
)

func TestSmoke(t *testing.T) {
	tr := New()
	for _, tg := range tr.Registry().Names() {
		out, err := tr.Translate(context.Background(), `SELECT * FROM events WHERE org_id = 'o' AND tags_csv LIKE '%a\\b\_c%' ESCAPE '\' AND time > (CURRENT_TIMESTAMP - INTERVAL '24 hours') AND time < '2026-02-07T20:15:00.123456789Z' ORDER BY time DESC LIMIT 100 OFFSET 10`, tg, nil)
		if err != nil {
			t.Errorf("%s: %v", tg, err)
			continue
		}
		t.Logf("%s: %s %v", tg, out.Text, out.Notes)
	}
}

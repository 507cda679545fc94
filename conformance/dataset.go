package conformance

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"tsgate/model"
)

// Dataset is the data every backend is loaded with, generated from a seed
// so each run (and each backend in a run) sees the same rows.
type Dataset struct {
	// Database the measurements are written to.
	Database string
	// Base is the first timestamp; the data spans the two hours after it.
	Base time.Time
	// Batches are written in order.
	Batches []*model.Batch
	// Optional are measurements a backend may refuse at write (times it
	// cannot store): refused rows make the measurement unavailable there,
	// and queries on it count as refused.
	Optional []string
}

// Span is how much time the dataset covers from Base.
const Span = 2 * time.Hour

// NewDataset builds the cpu, events, nasty and nasty_epoch measurements. base should end the
// data well before now (relative-time cases rely on it): the runner uses
// now truncated to the hour minus three hours.
func NewDataset(seed uint64, base time.Time) *Dataset {
	r := rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
	// A database per run: SQL backends would keep a second copy of rows
	// written again into the same tables.
	d := &Dataset{Database: fmt.Sprintf("conformance_%d", time.Now().UnixNano()), Base: base.UTC()}
	d.Batches = append(d.Batches, cpuBatch(r, d.Base), eventsBatch(r, d.Base),
		nastyBatch("nasty", nastyTimes(d.Base)), nastyBatch("nasty_epoch", oldTimes()))
	d.Optional = []string{"nasty_epoch"}
	return d
}

var cpuFields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// cpuBatch is TSBS's devops cpu: 8 hosts, a point every 10 s for two
// hours, 10 usage fields. A few fields are missing (NULL) at random, one
// host has a 15-minute gap, and points fall on every minute and hour
// boundary (the 10 s grid starts on one).
func cpuBatch(r *rand.Rand, base time.Time) *model.Batch {
	var b model.Batch
	t := b.Table("cpu")
	regions := []string{"eu-west-1", "us-east-1", "ap-south-1"}
	oses := []string{"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"}
	cells := make([]model.Cell, 0, 14)
	for step := 0; step < int(Span/(10*time.Second)); step++ {
		ts := base.Add(time.Duration(step) * 10 * time.Second)
		for h := range 8 {
			if h == 3 && step >= 180 && step < 270 {
				continue // a gap: host_3 is down for 15 minutes
			}
			region := regions[h%len(regions)]
			cells = cells[:0]
			cells = append(cells,
				model.Cell{Name: "hostname", Tag: true, Value: model.String(fmt.Sprintf("host_%d", h))},
				model.Cell{Name: "region", Tag: true, Value: model.String(region)},
				model.Cell{Name: "datacenter", Tag: true, Value: model.String(region + string(rune('a'+h%2)))},
				model.Cell{Name: "os", Tag: true, Value: model.String(oses[h%len(oses)])})
			for _, f := range cpuFields {
				// usage_guest_nice is sometimes absent; the others always
				// present, so backends that need a never-null field for
				// count(*) have one.
				if f == "usage_guest_nice" && r.IntN(10) == 0 {
					continue
				}
				// Two decimals: a value every backend stores exactly
				// enough for a 1e-9 relative comparison.
				v := float64(r.IntN(10000)) / 100
				cells = append(cells, model.Cell{Name: f, Value: model.Float(v)})
			}
			if err := t.AppendRow(ts.UnixMicro(), cells); err != nil {
				panic(err) // one consistent schema: cannot conflict
			}
		}
	}
	return &b
}

var (
	memoryTypes = []string{"episodic", "session", "decision", "entity"}
	eventTypes  = []string{"general", "page_crawled", "error", "decision_made", "tool_call"}
	words       = []string{"crawl", "timeout", "it's", `back\slash`, "100% done", "under_score", "naïve", "日本語",
		"emoji 🚀", `"quoted"`, "error", "retry", "success", "a'b''c"}
	tagWords = []string{"crawling", "web.v2", "urgent", "db-slow", "x_y"}
)

// eventsBatch is memtrace's events measurement: 3 orgs, 6 agents, 12
// sessions, every memory and event type, content with quotes, backslashes,
// LIKE wildcards and non-ASCII text, metadata JSON, tags CSV.
func eventsBatch(r *rand.Rand, base time.Time) *model.Batch {
	var b model.Batch
	t := b.Table("events")
	cells := make([]model.Cell, 0, 12)
	for i := range 1500 {
		// Whole seconds (ClickHouse 18.16 keeps nothing finer), and
		// distinct: InfluxDB identifies a point by series and time, so two
		// events of one series at one instant would overwrite each other.
		ts := base.Add(time.Duration(i*4+r.IntN(4)) * time.Second)
		org := fmt.Sprintf("org_%d", i%3)
		agent := fmt.Sprintf("agent_%d", r.IntN(6))
		session := ""
		if r.IntN(4) != 0 {
			session = fmt.Sprintf("sess_%02d", r.IntN(12))
		}
		var content strings.Builder
		for w := range 3 + r.IntN(5) {
			if w > 0 {
				content.WriteByte(' ')
			}
			content.WriteString(words[r.IntN(len(words))])
		}
		var tags []string
		for range r.IntN(3) {
			tags = append(tags, tagWords[r.IntN(len(tagWords))])
		}
		importance := 0.0
		if r.IntN(3) != 0 {
			importance = float64(r.IntN(100)) / 100
		}
		cells = cells[:0]
		cells = append(cells,
			model.Cell{Name: "org_id", Tag: true, Value: model.String(org)},
			model.Cell{Name: "agent_id", Tag: true, Value: model.String(agent)},
			model.Cell{Name: "session_id", Tag: true, Value: model.String(session)},
			model.Cell{Name: "memory_type", Tag: true, Value: model.String(memoryTypes[r.IntN(len(memoryTypes))])},
			model.Cell{Name: "event_type", Tag: true, Value: model.String(eventTypes[r.IntN(len(eventTypes))])},
			model.Cell{Name: "content", Value: model.String(content.String())},
			model.Cell{Name: "metadata_json", Value: model.String(fmt.Sprintf(`{"step":%d,"ok":%t}`, i, r.IntN(2) == 0))},
			model.Cell{Name: "tags_csv", Value: model.String(strings.Join(tags, ","))},
			model.Cell{Name: "dedup_key", Value: model.String(fmt.Sprintf("%032x", r.Uint64()))},
			model.Cell{Name: "importance", Value: model.Float(importance)},
			model.Cell{Name: "parent_id", Value: model.String("")},
		)
		if err := t.AppendRow(ts.UnixMicro(), cells); err != nil {
			panic(err)
		}
	}
	return &b
}

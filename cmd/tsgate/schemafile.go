package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"tsgate/model"
	"tsgate/translate"
	"tsgate/translate/target"
)

// schemaFile is `tsgate translate --schema FILE`: the measurements a
// translation may read, for when no backend is at hand. Two forms:
//
//	{"cpu": {"tags": ["host"], "fields": {"usage": "float"}, "required": ["usage"]}}
//	{"database": "telegraf", "measurements": {"cpu": {…}}}
//
// The second names the request's database (Flux reads a bucket; bare
// names resolve there). "required" lists the fields present in every
// point: InfluxDB has points, not rows, so InfluxQL and Flux can count or
// return every point only through such a field. Field types use
// InfluxDB's names: float, integer, unsigned, string, boolean. A key may
// be "db.measurement". Unknown keys are errors: a misspelt "required"
// must not be silently ignored.
type schemaFile struct {
	Database string
	Schema   *translate.StaticSchema
}

type measurementDef struct {
	Tags     []string          `json:"tags"`
	Fields   map[string]string `json:"fields"`
	Required []string          `json:"required"`
}

// parseSchemaFile reads either form.
func parseSchemaFile(data []byte) (*schemaFile, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	if top == nil {
		return nil, fmt.Errorf("want a JSON object of measurements")
	}
	out := &schemaFile{Schema: &translate.StaticSchema{Measurements: map[string][]target.ColumnInfo{}, Ver: 1}}
	ms := top
	if raw, ok := top["measurements"]; ok && wrapped(top) {
		if db, ok := top["database"]; ok {
			if err := json.Unmarshal(db, &out.Database); err != nil || out.Database == "" {
				return nil, fmt.Errorf(`"database" must be a non-empty string`)
			}
		}
		ms = nil
		if err := json.Unmarshal(raw, &ms); err != nil || ms == nil {
			return nil, fmt.Errorf(`"measurements" must be an object of measurements`)
		}
	}
	for name, raw := range ms {
		cols, err := parseMeasurement(raw)
		if err != nil {
			return nil, fmt.Errorf("measurement %s: %w", name, err)
		}
		out.Schema.Measurements[name] = cols
	}
	return out, nil
}

// wrapped reports the second form: "measurements" beside at most
// "database", and "database" a string (in the first form every value is
// a measurement's object).
func wrapped(top map[string]json.RawMessage) bool {
	for k, v := range top {
		switch k {
		case "measurements":
		case "database":
			if t := bytes.TrimSpace(v); len(t) == 0 || t[0] != '"' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func parseMeasurement(raw json.RawMessage) ([]target.ColumnInfo, error) {
	var def measurementDef
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&def); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	var cols []target.ColumnInfo
	seen := map[string]bool{"time": true}
	for _, t := range def.Tags {
		if seen[t] || t == "" {
			return nil, fmt.Errorf("column %q empty, reserved or given twice", t)
		}
		seen[t] = true
		cols = append(cols, target.ColumnInfo{Name: t, Tag: true, Type: model.TypeString})
	}
	for f, ts := range def.Fields {
		ft, ok := model.FieldTypeNamed(ts)
		if !ok {
			return nil, fmt.Errorf("field %s: unknown type %q (float, integer, unsigned, string, boolean)", f, ts)
		}
		if seen[f] || f == "" {
			return nil, fmt.Errorf("column %q empty, reserved or given twice", f)
		}
		seen[f] = true
		cols = append(cols, target.ColumnInfo{Name: f, Type: ft, Required: slices.Contains(def.Required, f)})
	}
	for _, r := range def.Required {
		if _, ok := def.Fields[r]; !ok {
			return nil, fmt.Errorf("required %q is not one of the fields", r)
		}
	}
	sort.Slice(cols, func(i, j int) bool { return cols[i].Name < cols[j].Name })
	return cols, nil
}

package arc

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"tsgate/errs"
	"tsgate/model"
	"tsgate/wire/body"
	"tsgate/wire/lineprotocol"
	"tsgate/wire/msgpack"
)

// writeDatabase picks the target database: the x-arc-database header wins
// over the route's query parameter, then "default".
func writeDatabase(r *http.Request, param string) (string, error) {
	db := r.Header.Get("x-arc-database")
	if db == "" {
		db = param
	}
	if db == "" {
		db = "default"
	}
	if !model.ValidDatabase(db) {
		return "", errs.New(errs.Invalid, invalidDatabaseName)
	}
	return db, nil
}

// readBody reads and decompresses a write body; wording picks the route's
// own error texts (Arc's line-protocol and msgpack handlers word them
// differently).
func (s *Server) readBody(r *http.Request, wording body.Wording) ([]byte, error) {
	b, _, err := body.ReadLimits(r.Body, body.Limits{MaxDecompressed: s.opts.maxBody, Wording: wording})
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, errs.New(errs.Invalid, "Empty request body")
	}
	return b, nil
}

// writeLP serves the three line-protocol routes; dbParam reads the
// route's own database parameter.
func (s *Server) writeLP(dbParam func(*http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		db, err := writeDatabase(r, dbParam(r))
		if err != nil {
			s.fail(w, err)
			return
		}
		prec, err := lineprotocol.ParsePrecision(r.URL.Query().Get("precision"))
		if err != nil {
			s.fail(w, err)
			return
		}
		s.decodeAndCommit(w, r, "line-protocol", db, body.LineProtocol, start, func(data []byte, b *model.Batch) error {
			return lineprotocol.Parse(data, prec, time.Now(), b)
		})
	}
}

func (s *Server) writeMsgpack(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	db, err := writeDatabase(r, "")
	if err != nil {
		s.fail(w, err)
		return
	}
	s.decodeAndCommit(w, r, "msgpack", db, body.MsgPack, start, func(data []byte, b *model.Batch) error {
		return msgpack.Decode(data, time.Now(), b)
	})
}

// decodeAndCommit reads the write body, decodes it into a batch with the
// route's decoder and commits it: the part both write formats share.
func (s *Server) decodeAndCommit(w http.ResponseWriter, r *http.Request, endpoint, db string, wording body.Wording,
	start time.Time, decode func(data []byte, b *model.Batch) error) {
	data, err := s.readBody(r, wording)
	if err != nil {
		s.fail(w, err)
		return
	}
	var b model.Batch
	if err := decode(data, &b); err != nil {
		s.fail(w, err)
		return
	}
	s.commit(w, r, endpoint, db, &b, start)
}

// commit validates measurement names (a bad one refuses the whole request,
// as in Arc), writes the batch and answers 204 once it is durable.
func (s *Server) commit(w http.ResponseWriter, r *http.Request, endpoint, db string, b *model.Batch, start time.Time) {
	for _, t := range b.Tables {
		if !model.ValidMeasurement(t.Measurement) {
			s.fail(w, errs.Newf(errs.Invalid, "invalid measurement name %q: must start with a letter and contain only alphanumeric characters, underscores, or hyphens", t.Measurement))
			return
		}
	}
	if b.Rows() == 0 {
		s.fail(w, errs.New(errs.Invalid, "No valid records in request"))
		return
	}
	res, err := s.backend.Write(r.Context(), db, b)
	s.metrics.writeLatency.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	s.metrics.rowsWritten.Add(float64(res.Rows))
	s.metrics.rowsRejected.Add(float64(res.Rejected + b.Dropped))
	if err != nil {
		e := errs.As(err)
		if e.Code == errs.Engine || e.Code == errs.Internal {
			e = &errs.Error{Code: e.Code, Msg: "Write failed: " + e.Msg, Err: err}
		}
		s.log.Error("write failed", "db", db, "rows", b.Rows(), "err", err)
		s.fail(w, e)
		return
	}
	if res.Rejected > 0 {
		// InfluxDB's answer to a partial write: the other rows are
		// stored, the client learns which were not and why.
		msgs := make([]string, len(res.Conflicts))
		for i, c := range res.Conflicts {
			msgs[i] = c.Error()
		}
		err := errs.Wrap(errs.Invalid, errors.Join(res.Conflicts...), "partial write: "+strings.Join(msgs, "; "))
		s.log.Warn("partial write", "db", db, "written", res.Rows, "rejected", res.Rejected, "err", err)
		s.fail(w, err)
		return
	}
	if b.Dropped > 0 {
		s.log.Debug("dropped malformed lines", "db", db, "dropped", b.Dropped, "first", fmt.Sprint(b.Errors[0]))
	}
	w.WriteHeader(http.StatusNoContent)
}

// fail answers a write-side error with Arc's {"error": …} body.
func (s *Server) fail(w http.ResponseWriter, err error) {
	s.countError(err)
	writeError(w, err)
}

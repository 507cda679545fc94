package replicate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"tsgate/errs"
	"tsgate/internal/atomicfile"
)

// The dual-write queue is a directory of segment files, NNNNNNNNNNNNNNNN.seg,
// appended in order. A record is
//
//	uint32 LE  payload length
//	uint32 LE  CRC-32C (Castagnoli) of the payload
//	int64  LE  enqueue time, Unix nanoseconds
//	payload
//
// and is fsync'd before Append returns, so a record a caller saw appended
// survives a crash. A crash mid-append leaves a short or mis-summed record
// at the end of the last segment: opening the queue truncates it away (the
// caller never saw it appended). The same damage anywhere else is disk
// corruption, not a torn tail, and opening fails with errs.Internal rather
// than guess.
//
// Consumption is tracked by the file "ack" (segment id and offset of the
// first unacknowledged record, replaced atomically by rename), so Ack
// costs one small write and fsync; fully acknowledged segments are
// deleted.
const (
	recordHeader   = 16
	ackFile        = "ack"
	segmentSuffix  = ".seg"
	defaultSegSize = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errQueueFull is returned by Append when the record would take the queue
// past its byte bound.
var errQueueFull = errs.New(errs.TooLarge, "dual-write queue is full")

// queueRecord locates one unacknowledged record.
type queueRecord struct {
	seg  uint64
	off  int64
	size int64 // header included
	at   time.Time
}

// queue is the durable FIFO of batches waiting for the secondary. One
// process, one writer and one consumer; safe for concurrent use.
type queue struct {
	mu       sync.Mutex
	dir      string
	maxBytes int64
	segSize  int64
	active   *os.File
	activeID uint64
	activeSz int64
	pending  []queueRecord
	bytes    int64
	// recovered is the number of torn bytes discarded at open.
	recovered int64
	closed    bool
}

func segName(id uint64) string { return fmt.Sprintf("%016d%s", id, segmentSuffix) }

// openQueue opens (creating) the queue in dir. maxBytes bounds the
// unacknowledged bytes (0: unbounded).
func openQueue(dir string, maxBytes int64) (*queue, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("queue directory: %w", err)
	}
	q := &queue{dir: dir, maxBytes: maxBytes, segSize: defaultSegSize}
	ids, err := q.segments()
	if err != nil {
		return nil, err
	}
	ackSeg, ackOff, err := q.readAck()
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		last := i == len(ids)-1
		if err := q.scan(id, last, ackSeg, ackOff); err != nil {
			return nil, err
		}
	}
	// Segments wholly before the ack point are leftovers of a crash
	// between an ack and the delete.
	for _, id := range ids {
		if id < ackSeg {
			os.Remove(filepath.Join(dir, segName(id)))
		}
	}
	// Append to the newest segment unless it is wholly acknowledged
	// already (its file may be gone): a record written at an offset
	// below the ack point would read as consumed after a restart.
	if n := len(ids); n > 0 && ids[n-1] >= ackSeg {
		next := ids[n-1]
		f, err := os.OpenFile(filepath.Join(dir, segName(next)), os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		q.active, q.activeID, q.activeSz = f, next, st.Size()
	} else if err := q.roll(ackSeg + 1); err != nil {
		return nil, err
	}
	return q, nil
}

func (q *queue) segments() ([]uint64, error) {
	ents, err := os.ReadDir(q.dir)
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for _, e := range ents {
		n, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

func (q *queue) readAck() (uint64, int64, error) {
	b, err := os.ReadFile(filepath.Join(q.dir, ackFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	if len(b) != 20 || crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		// The ack file is replaced by rename, so it is never torn; a
		// bad one is corruption and replaying from zero would duplicate.
		return 0, 0, errs.Newf(errs.Internal, "dual-write queue %s: ack file is corrupt", q.dir)
	}
	return binary.LittleEndian.Uint64(b[:8]), int64(binary.LittleEndian.Uint64(b[8:16])), nil
}

// scan indexes a segment's records from the ack point on; in the last
// segment a torn tail is truncated.
func (q *queue) scan(id uint64, last bool, ackSeg uint64, ackOff int64) error {
	path := filepath.Join(q.dir, segName(id))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	var off int64
	hdr := make([]byte, recordHeader)
	for off < size {
		bad := ""
		if size-off < recordHeader {
			bad = "short header"
		} else if _, err := f.ReadAt(hdr, off); err != nil {
			return err
		}
		var n int64
		if bad == "" {
			n = int64(binary.LittleEndian.Uint32(hdr))
			if n == 0 {
				bad = "checksum mismatch" // no record is empty; zeros are
			} else if off+recordHeader+n > size {
				bad = "short payload"
			} else {
				payload := make([]byte, n)
				if _, err := f.ReadAt(payload, off+recordHeader); err != nil {
					return err
				}
				if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
					bad = "checksum mismatch"
				}
			}
		}
		if bad != "" {
			// A crash mid-append can only damage the final record (or
			// leave zeros where the file was extended): that is a torn
			// tail. Anything else is corruption, and cutting it would
			// drop records that were acknowledged as queued.
			torn := last && (bad != "checksum mismatch" || off+recordHeader+n == size || zeros(f, off, size))
			if !torn {
				return errs.Newf(errs.Internal, "dual-write queue segment %s is corrupt at offset %d (%s)", path, off, bad)
			}
			if err := f.Truncate(off); err != nil {
				return err
			}
			if err := f.Sync(); err != nil {
				return err
			}
			q.recovered += size - off
			return nil
		}
		if id > ackSeg || (id == ackSeg && off >= ackOff) {
			at := time.Unix(0, int64(binary.LittleEndian.Uint64(hdr[8:])))
			q.pending = append(q.pending, queueRecord{seg: id, off: off, size: recordHeader + n, at: at})
			q.bytes += recordHeader + n
		}
		off += recordHeader + n
	}
	return nil
}

// zeros reports whether f holds only zero bytes from off to size.
func zeros(f *os.File, off, size int64) bool {
	buf := make([]byte, 64<<10)
	for off < size {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		for _, c := range buf[:n] {
			if c != 0 {
				return false
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return false
		}
		off += int64(n)
	}
	return true
}

func (q *queue) roll(id uint64) error {
	if q.active != nil {
		if err := q.active.Close(); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(filepath.Join(q.dir, segName(id)), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := atomicfile.SyncDir(q.dir); err != nil {
		f.Close()
		return err
	}
	q.active, q.activeID, q.activeSz = f, id, 0
	return nil
}

// Append adds payload durably. Past maxBytes it returns errQueueFull and
// writes nothing.
func (q *queue) Append(payload []byte, now time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errs.New(errs.Unavailable, "dual-write queue is closed")
	}
	size := int64(recordHeader + len(payload))
	if q.maxBytes > 0 && q.bytes+size > q.maxBytes {
		return errQueueFull
	}
	if q.activeSz > 0 && q.activeSz+size > q.segSize {
		if err := q.roll(q.activeID + 1); err != nil {
			return err
		}
	}
	buf := make([]byte, size)
	binary.LittleEndian.PutUint32(buf, uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[4:], crc32.Checksum(payload, castagnoli))
	binary.LittleEndian.PutUint64(buf[8:], uint64(now.UnixNano()))
	copy(buf[recordHeader:], payload)
	if _, err := q.active.Write(buf); err != nil {
		// A partial write is a torn record; cut it so later appends
		// do not land behind garbage.
		q.active.Truncate(q.activeSz)
		return err
	}
	if err := q.active.Sync(); err != nil {
		return err
	}
	q.pending = append(q.pending, queueRecord{seg: q.activeID, off: q.activeSz, size: size, at: now})
	q.activeSz += size
	q.bytes += size
	return nil
}

// Peek returns the oldest unacknowledged record's payload; ok is false
// when the queue is empty.
func (q *queue) Peek() (payload []byte, ok bool, err error) {
	q.mu.Lock()
	if len(q.pending) == 0 || q.closed {
		q.mu.Unlock()
		return nil, false, nil
	}
	r := q.pending[0]
	q.mu.Unlock()
	f, err := os.Open(filepath.Join(q.dir, segName(r.seg)))
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	buf := make([]byte, r.size)
	if _, err := f.ReadAt(buf, r.off); err != nil && !errors.Is(err, io.EOF) {
		return nil, false, err
	}
	payload = buf[recordHeader:]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(buf[4:]) {
		return nil, false, errs.Newf(errs.Internal, "dual-write queue segment %s: record at %d changed on disk", segName(r.seg), r.off)
	}
	return payload, true, nil
}

// Ack drops the oldest record: it is recorded durably as consumed and its
// segment deleted once wholly consumed.
func (q *queue) Ack() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		return nil
	}
	r := q.pending[0]
	seg, off := r.seg, r.off+r.size
	if len(q.pending) > 1 {
		seg, off = q.pending[1].seg, q.pending[1].off
	}
	if err := q.writeAck(seg, off); err != nil {
		return err
	}
	q.pending = q.pending[1:]
	q.bytes -= r.size
	if r.seg != q.activeID && (seg != r.seg || len(q.pending) == 0) {
		// Wholly consumed and no longer appended to.
		os.Remove(filepath.Join(q.dir, segName(r.seg)))
	}
	return nil
}

func (q *queue) writeAck(seg uint64, off int64) error {
	b := make([]byte, 20)
	binary.LittleEndian.PutUint64(b, seg)
	binary.LittleEndian.PutUint64(b[8:], uint64(off))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	return atomicfile.Write(filepath.Join(q.dir, ackFile), b, 0o644)
}

// Stats are the unacknowledged records, their bytes and the oldest one's
// enqueue time (zero when empty).
func (q *queue) Stats() (n int, bytes int64, oldest time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) > 0 {
		oldest = q.pending[0].at
	}
	return len(q.pending), q.bytes, oldest
}

// Close closes the active segment; the queue's records stay on disk.
func (q *queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	q.closed = true
	return q.active.Close()
}

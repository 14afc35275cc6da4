package image

import "os"

const (
	// writePiece is the most one write(2) hands the page cache. Linux 6.x
	// backs a large write with large folios, carved from the large free
	// blocks that a VM with virtio-balloon free page reporting (as here)
	// has handed back to its host, which then faults every page in again.
	// Writing 256 MiB measured, at times, 300-700 ms of CPU in 1 MiB
	// writes against 80-110 ms in 64-256 KiB writes (cp's copy_file_range
	// writes 64 KiB at a time); at other times both cost the same. The
	// extra system calls are lost in the noise.
	writePiece = 128 << 10
	// writebackWindow is how much data is written before the kernel is
	// asked to write it to disk (see dataWriter).
	writebackWindow = 8 << 20
)

// dataWriter writes an image's data to a new file, front to back. Left
// alone, the kernel keeps the data in the page cache until the fsync that
// makes the image durable, which then waits for all of it (about 130 ms
// per 256 MiB here, a fifth of the whole upload). So every
// writebackWindow bytes it starts the writeback of what was just written
// and waits for that of the window before, normally long done: the disk
// works while the data arrives, the final fsync finds at most two windows
// left, and an upload never holds more dirty pages than that, however
// fast it comes; a disk slower than the upload sets its pace here rather
// than in the fsync. The hints' errors are ignored: a failed writeback is
// reported by that fsync.
type dataWriter struct {
	f       *os.File
	off     int64 // bytes written
	started int64 // writeback was started for [0, started)
	waited  int64 // and waited for on [0, waited)
}

func (w *dataWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		n, err := w.f.Write(b[:min(len(b), writePiece)])
		written += n
		w.off += int64(n)
		b = b[n:]
		if err != nil {
			return written, err
		}
	}
	if w.off-w.started >= writebackWindow {
		if w.started > w.waited {
			waitWriteback(w.f, w.waited, w.started-w.waited)
			w.waited = w.started
		}
		startWriteback(w.f, w.started, w.off-w.started)
		w.started = w.off
	}
	return written, nil
}

//go:build linux && (amd64 || arm64)

package image

import (
	"os"
	"syscall"
)

// Flags of sync_file_range(2).
const (
	syncFileRangeWaitBefore = 1
	syncFileRangeWrite      = 2
	syncFileRangeWaitAfter  = 4
)

// startWriteback asks the kernel to start writing the n bytes of f at off
// to disk, without waiting for them.
func startWriteback(f *os.File, off, n int64) {
	syncFileRange(f, off, n, syncFileRangeWrite)
}

// waitWriteback returns once the n bytes of f at off are written to disk
// (not durable: neither the metadata nor the disk's cache are flushed).
func waitWriteback(f *os.File, off, n int64) {
	syncFileRange(f, off, n, syncFileRangeWaitBefore|syncFileRangeWrite|syncFileRangeWaitAfter)
}

// syncFileRange calls sync_file_range(2), a hint whose errors do not
// matter (see dataWriter). It takes 64-bit offsets in single registers,
// hence the build constraint.
func syncFileRange(f *os.File, off, n int64, flags uintptr) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_, _, _ = syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, fd, uintptr(off), uintptr(n), flags, 0, 0)
	})
}

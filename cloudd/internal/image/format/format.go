// Package format identifies disk image formats from their headers, in Go,
// before any image data is handed to qemu. It owns the rules that keep
// crafted images from reaching outside themselves (the CVE-2024-32498
// family): a qcow2 with a backing file or an external data file, a VMDK
// whose extents live in other files, differencing VHD/VHDX/VDI disks, and
// data that matches several formats at once are all refused; Compatible
// then checks the detected format against the declared disk_format, as
// Nova's deep inspection does.
//
// Inspect reads headers only (a few KiB at fixed offsets, bounded
// descriptor and metadata tables), never the whole image.
package format

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Format names, as Glance's disk_format spells them where one exists.
// GPT and MBR are raw disks whose partition table we recognised.
const (
	Raw   = "raw"
	QCOW2 = "qcow2"
	QED   = "qed"
	VMDK  = "vmdk"
	VHD   = "vhd"
	VHDX  = "vhdx"
	VDI   = "vdi"
	ISO   = "iso"
	GPT   = "gpt"
	MBR   = "mbr"
)

// Info is what the headers say about an image.
type Info struct {
	Format      string // one of the names above
	VirtualSize int64  // bytes the guest sees
}

// Error says why an image was refused. Format is what the data looked
// like ("" when it matched several formats).
type Error struct {
	Format string
	Reason string
}

func (e *Error) Error() string {
	if e.Format == "" {
		return e.Reason
	}
	return e.Format + " image " + e.Reason
}

func unsafe(format, reason string, args ...any) *Error {
	return &Error{Format: format, Reason: fmt.Sprintf(reason, args...)}
}

// A prober recognises one format. match reports whether the data carries
// its signature; inspect (called only on a match) checks the header is
// safe and returns the virtual size.
type prober struct {
	name    string
	match   func(r *reader) bool
	inspect func(r *reader) (int64, error)
}

// probers are the formats with a signature of their own; at most one of
// them may match. Partition tables are looked at only when none does.
var probers = []prober{
	{QCOW2, matchQCOW2, inspectQCOW2},
	{QED, matchQED, inspectQED},
	{VMDK, matchVMDK, inspectVMDK},
	{VHD, matchVHD, inspectVHD},
	{VHDX, matchVHDX, inspectVHDX},
	{VDI, matchVDI, inspectVDI},
	{ISO, matchISO, sizeOfFile},
}

// Inspect identifies the image in r, which is size bytes long, and checks
// that it is safe to hand to qemu with that format. A refusal is an
// *Error; a read failure is returned as is.
func Inspect(r io.ReaderAt, size int64) (Info, error) {
	rd := &reader{r: r, size: size}
	var matched []prober
	for _, p := range probers {
		if p.match(rd) {
			matched = append(matched, p)
		}
		if rd.err != nil {
			return Info{}, rd.err
		}
	}
	switch len(matched) {
	case 0:
		name := Raw
		if isGPT(rd) {
			name = GPT
		} else if isMBR(rd) {
			name = MBR
		}
		if rd.err != nil {
			return Info{}, rd.err
		}
		return Info{Format: name, VirtualSize: size}, nil
	case 1:
		p := matched[0]
		vsize, err := p.inspect(rd)
		if rd.err != nil {
			return Info{}, rd.err
		}
		if err != nil {
			return Info{}, err
		}
		return Info{Format: p.name, VirtualSize: vsize}, nil
	default:
		names := make([]string, len(matched))
		for i, p := range matched {
			names[i] = p.name
		}
		return Info{}, &Error{Reason: "data matches several formats at once (" + strings.Join(names, ", ") +
			"), which is how format-confusion attacks look"}
	}
}

// DiskFormats are the disk_format values Stratus accepts, as Glance
// defines them (ploop is left out: nothing here can inspect it).
var DiskFormats = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso"}

// Compatible reports whether data detected as detected may be registered
// with disk_format declared. The rules are Nova's: the formats must be the
// same, except that a partitioned raw disk (GPT or MBR) is raw, an ISO may
// be detected by its hybrid partition table, and the Amazon kernel/ramdisk
// /machine formats are raw. An ISO declared raw is refused: it would boot
// as a disk although it is a CD, and Nova refuses it too.
func Compatible(declared, detected string) bool {
	if declared == detected {
		return true
	}
	partitioned := detected == GPT || detected == MBR
	switch declared {
	case Raw, ISO:
		return partitioned
	case "ami", "ari", "aki":
		return partitioned || detected == Raw
	}
	return false
}

// KnownDiskFormat reports whether name is an accepted disk_format.
func KnownDiskFormat(name string) bool { return slices.Contains(DiskFormats, name) }

// sizeOfFile is the virtual size of formats whose data is the disk.
func sizeOfFile(r *reader) (int64, error) { return r.size, nil }

// reader reads fixed-size pieces of the image. Reading past the end gives
// nil (the caller treats the data as absent); any other failure is kept in
// err and stops the inspection.
type reader struct {
	r    io.ReaderAt
	size int64
	err  error
}

// at returns n bytes at off, or nil if the image is shorter.
func (r *reader) at(off int64, n int) []byte {
	if r.err != nil || off < 0 || n < 0 || off > r.size || int64(n) > r.size-off {
		return nil
	}
	buf := make([]byte, n)
	got, err := r.r.ReadAt(buf, off)
	if got == n {
		return buf
	}
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return nil
}

// has reports whether the image holds sig at off.
func (r *reader) has(off int64, sig string) bool {
	b := r.at(off, len(sig))
	return b != nil && string(b) == sig
}

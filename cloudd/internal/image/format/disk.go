package format

import (
	"encoding/binary"
	"math"
)

// VDI (VirtualBox) header v1.1 layout (little-endian).
const (
	vdiSignatureAt = 0x40
	vdiSignature   = 0xbeda107f
	vdiHeaderLen   = 0x178
	vdiNormal      = 1
	vdiFixed       = 2
	vdiUndo        = 3
	vdiDiff        = 4
)

func matchVDI(r *reader) bool {
	b := r.at(vdiSignatureAt, 4)
	return b != nil && binary.LittleEndian.Uint32(b) == vdiSignature
}

func inspectVDI(r *reader) (int64, error) {
	le := binary.LittleEndian
	h := r.at(0, vdiHeaderLen)
	if h == nil {
		return 0, unsafe(VDI, "header is truncated")
	}
	if major := le.Uint32(h[0x44:]) >> 16; major != 1 {
		return 0, unsafe(VDI, "has unsupported version %d", major)
	}
	switch t := le.Uint32(h[0x4c:]); t {
	case vdiNormal, vdiFixed:
	case vdiUndo, vdiDiff:
		return 0, unsafe(VDI, "is a differencing disk, which reads data from a parent disk outside the image")
	default:
		return 0, unsafe(VDI, "has unknown image type %d", t)
	}
	vsize := le.Uint64(h[0x170:])
	if vsize > math.MaxInt64 {
		return 0, unsafe(VDI, "claims an impossible virtual size")
	}
	return int64(vsize), nil
}

// ISO 9660: the first volume descriptor sits at sector 16 (32 KiB) of
// 2048-byte sectors, with "CD001" after its type byte.
const isoDescriptor = 16*2048 + 1

func matchISO(r *reader) bool { return r.has(isoDescriptor, "CD001") }

// Partition tables: an MBR boot sector ends in 0x55AA at 510 and holds
// four 16-byte partition entries from 446; a GPT disk has "EFI PART" at
// LBA 1, or a protective MBR partition of type 0xEE (4 KiB sectors).
const (
	mbrSignatureAt  = 510
	mbrPartitions   = 446
	mbrProtectiveGP = 0xee
)

func isMBR(r *reader) bool {
	b := r.at(0, 512)
	if b == nil || b[mbrSignatureAt] != 0x55 || b[mbrSignatureAt+1] != 0xaa {
		return false
	}
	for i := range 4 {
		if boot := b[mbrPartitions+16*i]; boot != 0 && boot != 0x80 {
			return false
		}
	}
	return true
}

func isGPT(r *reader) bool {
	if r.has(512, "EFI PART") {
		return true
	}
	if !isMBR(r) {
		return false
	}
	b := r.at(mbrPartitions, 64)
	for i := range 4 {
		if b[16*i+4] == mbrProtectiveGP {
			return true
		}
	}
	return false
}

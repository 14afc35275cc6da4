package format

import (
	"encoding/binary"
	"math"
)

// QCOW2 layout (big-endian), from qemu's docs/interop/qcow2.txt.
const (
	qcow2Magic       = "QFI\xfb"
	qcow2V2HeaderLen = 72
	qcow2V3HeaderLen = 104

	// Incompatible feature bits (header offset 72, version 3).
	qcow2Dirty       = 1 << 0
	qcow2Corrupt     = 1 << 1
	qcow2DataFile    = 1 << 2 // guest data lives in another file: CVE-2024-32498
	qcow2Compression = 1 << 3
	qcow2ExtendedL2  = 1 << 4
	qcow2KnownBits   = qcow2Dirty | qcow2Corrupt | qcow2DataFile | qcow2Compression | qcow2ExtendedL2

	// Header extension types.
	qcow2ExtEnd      = 0
	qcow2ExtDataFile = 0x44415441 // "DATA": the external data file's name

	// Header extensions we look at before giving up.
	qcow2MaxExtensions = 64
)

func matchQCOW2(r *reader) bool { return r.has(0, qcow2Magic) }

func inspectQCOW2(r *reader) (int64, error) {
	be := binary.BigEndian
	h := r.at(0, qcow2V2HeaderLen)
	if h == nil {
		return 0, unsafe(QCOW2, "header is truncated")
	}
	version := be.Uint32(h[4:])
	if version != 2 && version != 3 {
		return 0, unsafe(QCOW2, "has unsupported version %d", version)
	}
	if be.Uint64(h[8:]) != 0 || be.Uint32(h[16:]) != 0 {
		return 0, unsafe(QCOW2, "refers to a backing file, which would let it read data outside the image")
	}
	clusterBits := be.Uint32(h[20:])
	if clusterBits < 9 || clusterBits > 21 {
		return 0, unsafe(QCOW2, "has an invalid cluster size (2^%d bytes)", clusterBits)
	}
	vsize := be.Uint64(h[24:])
	if vsize > math.MaxInt64 {
		return 0, unsafe(QCOW2, "claims an impossible virtual size")
	}
	headerLen := int64(qcow2V2HeaderLen)
	if version == 3 {
		h = r.at(0, qcow2V3HeaderLen)
		if h == nil {
			return 0, unsafe(QCOW2, "header is truncated")
		}
		incompatible := be.Uint64(h[72:])
		switch {
		case incompatible&qcow2DataFile != 0:
			return 0, unsafe(QCOW2, "uses an external data file (incompatible feature bit 2), which would let it read data outside the image")
		case incompatible&qcow2Corrupt != 0:
			return 0, unsafe(QCOW2, "is marked corrupt")
		case incompatible&^qcow2KnownBits != 0:
			return 0, unsafe(QCOW2, "sets unknown incompatible feature bits %#x", incompatible&^qcow2KnownBits)
		}
		headerLen = int64(be.Uint32(h[100:]))
		if headerLen < qcow2V3HeaderLen || headerLen%8 != 0 {
			return 0, unsafe(QCOW2, "has an invalid header length %d", headerLen)
		}
	}
	// Header extensions follow the header inside the first cluster; a
	// data-file name there is refused even without the feature bit.
	clusterSize := int64(1) << clusterBits
	off := headerLen
	for range qcow2MaxExtensions {
		e := r.at(off, 8)
		if e == nil || off+8 > clusterSize {
			break
		}
		typ, length := be.Uint32(e), int64(be.Uint32(e[4:]))
		if typ == qcow2ExtEnd {
			break
		}
		if typ == qcow2ExtDataFile {
			return 0, unsafe(QCOW2, "names an external data file, which would let it read data outside the image")
		}
		off += 8 + (length+7)&^7
	}
	return int64(vsize), nil
}

// QED layout (little-endian), from qemu's docs/interop/qed_spec.txt.
const (
	qedMagic        = "QED\x00"
	qedHeaderLen    = 64
	qedBackingFile  = 1 << 0
	qedNeedCheck    = 1 << 1
	qedBackingNoFmt = 1 << 2
	qedKnownBits    = qedBackingFile | qedNeedCheck | qedBackingNoFmt
)

func matchQED(r *reader) bool { return r.has(0, qedMagic) }

func inspectQED(r *reader) (int64, error) {
	le := binary.LittleEndian
	h := r.at(0, qedHeaderLen)
	if h == nil {
		return 0, unsafe(QED, "header is truncated")
	}
	features := le.Uint64(h[16:])
	if features&qedBackingFile != 0 || le.Uint32(h[56:]) != 0 {
		return 0, unsafe(QED, "refers to a backing file, which would let it read data outside the image")
	}
	if features&^qedKnownBits != 0 {
		return 0, unsafe(QED, "sets unknown feature bits %#x", features&^qedKnownBits)
	}
	vsize := le.Uint64(h[48:])
	if vsize > math.MaxInt64 {
		return 0, unsafe(QED, "claims an impossible virtual size")
	}
	return int64(vsize), nil
}

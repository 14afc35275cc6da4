package format

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"strings"
)

// VHD (Microsoft Virtual Hard Disk) footer layout (big-endian). Dynamic
// and differencing disks keep a copy of the footer at offset 0; fixed
// disks only at the end, and are detected as raw, as Nova does.
const (
	vhdCookie      = "conectix"
	vhdFooterLen   = 512
	vhdFixed       = 2
	vhdDynamic     = 3
	vhdDifferences = 4
)

func matchVHD(r *reader) bool { return r.has(0, vhdCookie) }

func inspectVHD(r *reader) (int64, error) {
	f := r.at(0, vhdFooterLen)
	if f == nil {
		return 0, unsafe(VHD, "footer is truncated")
	}
	be := binary.BigEndian
	switch t := be.Uint32(f[60:]); t {
	case vhdFixed, vhdDynamic:
	case vhdDifferences:
		return 0, unsafe(VHD, "is a differencing disk, which reads data from a parent disk outside the image")
	default:
		return 0, unsafe(VHD, "has unknown disk type %d", t)
	}
	vsize := be.Uint64(f[48:])
	if vsize > math.MaxInt64 {
		return 0, unsafe(VHD, "claims an impossible virtual size")
	}
	return int64(vsize), nil
}

// VHDX layout (little-endian), from [MS-VHDX]: a region table at 192 KiB
// points at the metadata region, whose table lists items by GUID.
const (
	vhdxSignature   = "vhdxfile"
	vhdxRegionTable = 192 << 10
	vhdxMaxEntries  = 2047
	vhdxEntryLen    = 32
	vhdxHasParent   = 1 << 1 // file parameters flag
)

var (
	vhdxMetadataRegion  = mustGUID("8B7CA206-4790-4B9A-B8FE-575F050F886E")
	vhdxFileParameters  = mustGUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
	vhdxVirtualDiskSize = mustGUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
	vhdxParentLocator   = mustGUID("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")
)

func matchVHDX(r *reader) bool { return r.has(0, vhdxSignature) }

func inspectVHDX(r *reader) (int64, error) {
	le := binary.LittleEndian
	regions, ok := vhdxTable(r, vhdxRegionTable, "regi", 16, func(h []byte) int { return int(le.Uint32(h[8:])) })
	if !ok {
		return 0, unsafe(VHDX, "region table is missing or truncated")
	}
	var meta int64 = -1
	for e := range regions {
		if [16]byte(e[:16]) == vhdxMetadataRegion {
			meta = int64(le.Uint64(e[16:]))
		}
	}
	if meta < 0 {
		return 0, unsafe(VHDX, "has no metadata region")
	}
	items, ok := vhdxTable(r, meta, "metadata", 32, func(h []byte) int { return int(le.Uint16(h[10:])) })
	if !ok {
		return 0, unsafe(VHDX, "metadata table is missing or truncated")
	}
	var vsize int64 = -1
	for e := range items {
		value := func(n int) []byte { return r.at(meta+int64(le.Uint32(e[16:])), n) }
		switch [16]byte(e[:16]) {
		case vhdxParentLocator:
			return 0, unsafe(VHDX, "is a differencing disk, which reads data from a parent disk outside the image")
		case vhdxFileParameters:
			if v := value(8); v != nil && le.Uint32(v[4:])&vhdxHasParent != 0 {
				return 0, unsafe(VHDX, "is a differencing disk, which reads data from a parent disk outside the image")
			}
		case vhdxVirtualDiskSize:
			v := value(8)
			if v == nil || le.Uint64(v) > math.MaxInt64 {
				return 0, unsafe(VHDX, "has an unreadable virtual disk size")
			}
			vsize = int64(le.Uint64(v))
		}
	}
	if vsize < 0 {
		return 0, unsafe(VHDX, "has no virtual disk size")
	}
	return vsize, nil
}

// vhdxTable reads a table at off: a header of headerLen bytes starting
// with sig, whose entry count count reads, then 32-byte entries. It
// yields each entry.
func vhdxTable(r *reader, off int64, sig string, headerLen int, count func(header []byte) int) (func(func([]byte) bool), bool) {
	h := r.at(off, headerLen)
	if h == nil || string(h[:len(sig)]) != sig {
		return nil, false
	}
	n := count(h)
	if n > vhdxMaxEntries {
		return nil, false
	}
	entries := r.at(off+int64(headerLen), n*vhdxEntryLen)
	if entries == nil {
		return nil, false
	}
	return func(yield func([]byte) bool) {
		for i := range n {
			if !yield(entries[i*vhdxEntryLen : (i+1)*vhdxEntryLen]) {
				return
			}
		}
	}, true
}

// mustGUID encodes a GUID the way Microsoft formats store it: the first
// three groups little-endian, the rest as written.
func mustGUID(s string) [16]byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		panic("bad GUID literal " + s)
	}
	var g [16]byte
	g[0], g[1], g[2], g[3] = b[3], b[2], b[1], b[0]
	g[4], g[5] = b[5], b[4]
	g[6], g[7] = b[7], b[6]
	copy(g[8:], b[8:])
	return g
}

package format

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
)

// VMDK layout (little-endian), from VMware's "Virtual Disk Format 5.0".
const (
	vmdkMagic          = "KDMV"
	vmdkDescriptorFile = "# Disk DescriptorFile"
	vmdkHeaderLen      = 64
	sector             = 512
	vmdkMaxDescriptor  = 64 << 10
)

// vmdkAllowedTypes are the createTypes whose only extent is the file
// itself; every other type keeps data in further files.
var vmdkAllowedTypes = []string{"monolithicSparse", "streamOptimized"}

func matchVMDK(r *reader) bool { return r.has(0, vmdkMagic) || r.has(0, vmdkDescriptorFile) }

func inspectVMDK(r *reader) (int64, error) {
	if !r.has(0, vmdkMagic) {
		return 0, unsafe(VMDK, "is a bare descriptor file: its extents live in other files, which would let it read data outside the image")
	}
	le := binary.LittleEndian
	h := r.at(0, vmdkHeaderLen)
	if h == nil {
		return 0, unsafe(VMDK, "header is truncated")
	}
	if v := le.Uint32(h[4:]); v < 1 || v > 3 {
		return 0, unsafe(VMDK, "has unsupported version %d", v)
	}
	capacity := le.Uint64(h[12:])
	descOffset, descSize := le.Uint64(h[28:]), le.Uint64(h[36:])
	if descOffset == 0 || descSize == 0 {
		return 0, unsafe(VMDK, "has no embedded descriptor")
	}
	if descSize > vmdkMaxDescriptor/sector {
		return 0, unsafe(VMDK, "descriptor is larger than %d KiB", vmdkMaxDescriptor>>10)
	}
	if descOffset > math.MaxInt64/sector {
		return 0, unsafe(VMDK, "descriptor lies outside the file")
	}
	desc := r.at(int64(descOffset)*sector, int(descSize)*sector)
	if desc == nil {
		return 0, unsafe(VMDK, "descriptor lies outside the file")
	}
	if err := checkVMDKDescriptor(desc); err != nil {
		return 0, err
	}
	if capacity > math.MaxInt64/sector {
		return 0, unsafe(VMDK, "claims an impossible virtual size")
	}
	return int64(capacity) * sector, nil
}

// checkVMDKDescriptor accepts only a monolithicSparse or streamOptimized
// descriptor with exactly one SPARSE extent naming a file without a path,
// and no parent disk.
func checkVMDKDescriptor(desc []byte) error {
	if i := bytes.IndexByte(desc, 0); i >= 0 {
		desc = desc[:i]
	}
	createType := ""
	extents := 0
	for line := range strings.Lines(string(desc)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		switch fields[0] {
		case "RW", "RDONLY", "NOACCESS":
			extents++
			if len(fields) < 3 || fields[2] != "SPARSE" {
				return unsafe(VMDK, "has a non-SPARSE extent (%q), which keeps data outside the image", line)
			}
			if len(fields) >= 4 && strings.ContainsAny(fields[3], `/\`) {
				return unsafe(VMDK, "has an extent with a path (%s), which would let it read data outside the image", fields[3])
			}
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		value = strings.Trim(strings.TrimSpace(value), `"`)
		switch strings.TrimSpace(key) {
		case "createType":
			createType = value
		case "parentCID":
			if !strings.EqualFold(value, "ffffffff") {
				return unsafe(VMDK, "refers to a parent disk")
			}
		case "parentFileNameHint":
			return unsafe(VMDK, "refers to a parent disk")
		}
	}
	if !slices.Contains(vmdkAllowedTypes, createType) {
		return unsafe(VMDK, "has createType %q; only %s keep their data in the file itself",
			createType, strings.Join(vmdkAllowedTypes, " and "))
	}
	if extents != 1 {
		return unsafe(VMDK, "describes %d extents; exactly one, inside the file, is allowed", extents)
	}
	return nil
}

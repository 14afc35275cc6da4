package format_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stratus-cloud/stratus/cloudd/internal/image/format"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The helpers below build real headers by hand, field by field, from the
// format specifications; the seed corpus of FuzzInspect is made of them.

const gib = 1 << 30

type qcow2Opts struct {
	version      uint32
	backing      string // a backing file name, stored after the header
	incompatible uint64
	extensions   [][2]any // {type uint32, payload []byte}
}

// qcow2 returns the first cluster of a qcow2 image of 1 GiB.
func qcow2(o qcow2Opts) []byte {
	be := binary.BigEndian
	b := make([]byte, 64<<10)
	copy(b, "QFI\xfb")
	be.PutUint32(b[4:], o.version)
	be.PutUint32(b[20:], 16) // 64 KiB clusters
	be.PutUint64(b[24:], gib)
	headerLen := 72
	if o.version >= 3 {
		headerLen = 104
		be.PutUint64(b[72:], o.incompatible)
		be.PutUint32(b[96:], 4) // refcount order
		be.PutUint32(b[100:], uint32(headerLen))
	}
	off := headerLen
	for _, e := range o.extensions {
		payload := e[1].([]byte)
		be.PutUint32(b[off:], e[0].(uint32))
		be.PutUint32(b[off+4:], uint32(len(payload)))
		copy(b[off+8:], payload)
		off += 8 + (len(payload)+7)&^7
	}
	off += 8 // end-of-extensions marker (zeros)
	if o.backing != "" {
		be.PutUint64(b[8:], uint64(off))
		be.PutUint32(b[16:], uint32(len(o.backing)))
		copy(b[off:], o.backing)
	}
	return b
}

// vmdkSparse returns a hosted sparse extent header with desc embedded at
// sector 1, as qemu-img writes monolithicSparse and streamOptimized files.
func vmdkSparse(desc string) []byte {
	le := binary.LittleEndian
	b := make([]byte, 512+len(desc)+512)
	copy(b, "KDMV")
	le.PutUint32(b[4:], 1)
	le.PutUint64(b[12:], 2*gib/512) // capacity in sectors
	le.PutUint64(b[20:], 128)       // grain size
	le.PutUint64(b[28:], 1)         // descriptor offset (sectors)
	le.PutUint64(b[36:], uint64((len(desc)+511)/512))
	copy(b[512:], desc)
	return b
}

func vmdkDescriptor(createType string, extents ...string) string {
	return "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType=\"" + createType +
		"\"\n\n# Extent description\n" + strings.Join(extents, "\n") + "\n\nddb.virtualHWVersion = \"4\"\n"
}

// iso returns the first 34 KiB of an ISO 9660 image: "CD001" in the
// primary volume descriptor at 32 KiB.
func iso() []byte {
	b := make([]byte, 34<<10)
	b[32<<10] = 1
	copy(b[32<<10+1:], "CD001")
	return b
}

// mbr returns a boot sector with one Linux partition (or a protective GPT
// partition), followed by a GPT header when gpt is set.
func mbr(gpt bool) []byte {
	b := make([]byte, 4096)
	b[446] = 0x80
	b[446+4] = 0x83
	if gpt {
		b[446] = 0
		b[446+4] = 0xee
		copy(b[512:], "EFI PART")
	}
	b[510], b[511] = 0x55, 0xaa
	return b
}

// vhd returns a VHD footer copy as dynamic disks carry at offset 0.
func vhd(diskType uint32) []byte {
	be := binary.BigEndian
	b := make([]byte, 1024)
	copy(b, "conectix")
	be.PutUint64(b[40:], 3*gib)
	be.PutUint64(b[48:], 3*gib)
	be.PutUint32(b[60:], diskType)
	return b
}

// guid encodes a GUID in Microsoft's mixed-endian layout.
func guid(s string) []byte {
	raw, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(raw) != 16 {
		panic("bad GUID " + s)
	}
	return []byte{raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6],
		raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]}
}

// vhdx returns the headers of a VHDX file: the identifier, a region table
// at 192 KiB pointing at a metadata region at 1 MiB whose table lists the
// virtual disk size (and a parent locator if parent is set).
func vhdx(parent bool) []byte {
	le := binary.LittleEndian
	const meta = 1 << 20
	b := make([]byte, meta+128<<10)
	copy(b, "vhdxfile")
	rt := b[192<<10:]
	copy(rt, "regi")
	le.PutUint32(rt[8:], 1)
	copy(rt[16:], guid("8B7CA206-4790-4B9A-B8FE-575F050F886E"))
	le.PutUint64(rt[32:], meta)
	le.PutUint32(rt[40:], 1<<20)
	mt := b[meta:]
	copy(mt, "metadata")
	items := [][]byte{guid("2FA54224-CD1B-4876-B211-5DBED83BF4B8")}
	if parent {
		items = append(items, guid("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C"))
	}
	le.PutUint16(mt[10:], uint16(len(items)))
	for i, id := range items {
		e := mt[32+32*i:]
		copy(e, id)
		le.PutUint32(e[16:], 64<<10) // value offset within the region
		le.PutUint32(e[20:], 8)
	}
	le.PutUint64(mt[64<<10:], 5*gib)
	return b
}

// vdi returns a VirtualBox header v1.1 of the given image type.
func vdi(imageType uint32) []byte {
	le := binary.LittleEndian
	b := make([]byte, 512)
	copy(b, "<<< Oracle VM VirtualBox Disk Image >>>\n")
	le.PutUint32(b[0x40:], 0xbeda107f)
	le.PutUint32(b[0x44:], 0x00010001)
	le.PutUint32(b[0x48:], 0x190)
	le.PutUint32(b[0x4c:], imageType)
	le.PutUint64(b[0x170:], 4*gib)
	return b
}

// qed returns a QED header, with a backing file if backing is set.
func qed(backing bool) []byte {
	le := binary.LittleEndian
	b := make([]byte, 4096)
	copy(b, "QED\x00")
	le.PutUint32(b[4:], 64<<10)
	le.PutUint64(b[48:], gib)
	if backing {
		le.PutUint64(b[16:], 1)
		le.PutUint32(b[56:], 1024)
		le.PutUint32(b[60:], 10)
	}
	return b
}

func inspect(data []byte) (format.Info, error) {
	return format.Inspect(bytes.NewReader(data), int64(len(data)))
}

func TestInspect(t *testing.T) {
	good := vmdkDescriptor("monolithicSparse", `RW 4194304 SPARSE "disk.vmdk"`)
	cases := []struct {
		name   string
		data   []byte
		format string
		vsize  int64
		unsafe string // substring of the refusal; "" means accepted
	}{
		{"empty", nil, format.Raw, 0, ""},
		{"zeros", make([]byte, 4096), format.Raw, 4096, ""},
		{"qcow2 v2", qcow2(qcow2Opts{version: 2}), format.QCOW2, gib, ""},
		{"qcow2 v3", qcow2(qcow2Opts{version: 3}), format.QCOW2, gib, ""},
		{"qcow2 v3 dirty", qcow2(qcow2Opts{version: 3, incompatible: 1}), format.QCOW2, gib, ""},
		{"qcow2 with backing file", qcow2(qcow2Opts{version: 3, backing: "/etc/passwd"}), "", 0, "backing file"},
		{"qcow2 v2 with backing file", qcow2(qcow2Opts{version: 2, backing: "base.img"}), "", 0, "backing file"},
		{"qcow2 with data-file bit", qcow2(qcow2Opts{version: 3, incompatible: 1 << 2}), "", 0, "external data file"},
		{"qcow2 with data-file extension", qcow2(qcow2Opts{version: 3,
			extensions: [][2]any{{uint32(0x44415441), []byte("/etc/shadow")}}}), "", 0, "external data file"},
		{"qcow2 with unknown feature", qcow2(qcow2Opts{version: 3, incompatible: 1 << 9}), "", 0, "unknown incompatible"},
		{"qcow2 marked corrupt", qcow2(qcow2Opts{version: 3, incompatible: 1 << 1}), "", 0, "corrupt"},
		{"qcow2 version 4", qcow2(qcow2Opts{version: 4}), "", 0, "version"},
		{"qcow2 truncated", []byte("QFI\xfb\x00\x00\x00\x03"), "", 0, "truncated"},
		{"vmdk monolithicSparse", vmdkSparse(good), format.VMDK, 2 * gib, ""},
		{"vmdk streamOptimized", vmdkSparse(vmdkDescriptor("streamOptimized", `RW 4194304 SPARSE "x.vmdk"`)), format.VMDK, 2 * gib, ""},
		{"vmdk with external flat extent", vmdkSparse(vmdkDescriptor("monolithicSparse",
			`RW 4194304 SPARSE "disk.vmdk"`, `RW 2048 FLAT "/etc/shadow" 0`)), "", 0, "non-SPARSE extent"},
		{"vmdk extent with a path", vmdkSparse(vmdkDescriptor("monolithicSparse", `RW 4194304 SPARSE "/var/lib/x.vmdk"`)), "", 0, "path"},
		{"vmdk two sparse extents", vmdkSparse(vmdkDescriptor("monolithicSparse",
			`RW 4194304 SPARSE "a.vmdk"`, `RW 4194304 SPARSE "b.vmdk"`)), "", 0, "2 extents"},
		{"vmdk monolithicFlat type", vmdkSparse(vmdkDescriptor("monolithicFlat", `RW 4194304 SPARSE "a.vmdk"`)), "", 0, "createType"},
		{"vmdk with parent", vmdkSparse(strings.Replace(good, "parentCID=ffffffff", "parentCID=0badcafe", 1)), "", 0, "parent"},
		{"vmdk descriptor file", []byte(vmdkDescriptor("monolithicFlat", `RW 4194304 FLAT "/etc/passwd" 0`)), "", 0, "descriptor file"},
		{"vmdk descriptor past the end", vmdkSparse(good)[:512], "", 0, "outside the file"},
		{"vhd dynamic", vhd(3), format.VHD, 3 * gib, ""},
		{"vhd differencing", vhd(4), "", 0, "differencing"},
		{"vhdx", vhdx(false), format.VHDX, 5 * gib, ""},
		{"vhdx differencing", vhdx(true), "", 0, "differencing"},
		{"vhdx without region table", vhdx(false)[:100<<10], "", 0, "region table"},
		{"vdi", vdi(1), format.VDI, 4 * gib, ""},
		{"vdi differencing", vdi(4), "", 0, "differencing"},
		{"qed", qed(false), format.QED, gib, ""},
		{"qed with backing file", qed(true), "", 0, "backing file"},
		{"iso", iso(), format.ISO, 34 << 10, ""},
		{"gpt", mbr(true), format.GPT, 4096, ""},
		{"mbr", mbr(false), format.MBR, 4096, ""},
		{"hybrid iso", append(mbr(true), iso()[4096:]...), format.ISO, 34 << 10, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			info, err := inspect(tc.data)
			if tc.unsafe != "" {
				var fe *format.Error
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.unsafe) {
					t.Fatalf("Inspect = %+v, %v; want a refusal mentioning %q", info, err, tc.unsafe)
				}
				return
			}
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if info.Format != tc.format || info.VirtualSize != tc.vsize {
				t.Errorf("Inspect = %+v, want format %s, virtual size %d", info, tc.format, tc.vsize)
			}
		})
	}
}

func TestSeveralFormatsRefused(t *testing.T) {
	// A qcow2 header with an ISO volume descriptor at 32 KiB: a reader
	// probing for either would take it for something else.
	q := qcow2(qcow2Opts{version: 3})
	both := make([]byte, 34<<10)
	copy(both, q[:1024])
	copy(both[32<<10:], iso()[32<<10:])
	if _, err := inspect(both); err == nil || !strings.Contains(err.Error(), "qcow2, iso") {
		t.Errorf("qcow2 header with an ISO descriptor: %v, want a refusal naming qcow2 and iso", err)
	}
}

func TestCompatible(t *testing.T) {
	cases := []struct {
		declared, detected string
		ok                 bool
	}{
		{"raw", "raw", true},
		{"raw", "gpt", true},
		{"raw", "mbr", true},
		{"raw", "iso", false}, // Nova refuses an ISO registered as raw
		{"raw", "qcow2", false},
		{"qcow2", "raw", false},
		{"qcow2", "qcow2", true},
		{"iso", "iso", true},
		{"iso", "gpt", true},
		{"iso", "raw", false},
		{"vmdk", "vmdk", true},
		{"vhd", "vhdx", false},
		{"ami", "raw", true},
		{"aki", "mbr", true},
		{"ami", "qcow2", false},
		{"vdi", "qed", false},
	}
	for _, tc := range cases {
		if got := format.Compatible(tc.declared, tc.detected); got != tc.ok {
			t.Errorf("Compatible(%q, %q) = %v, want %v", tc.declared, tc.detected, got, tc.ok)
		}
	}
}

// seeds are real headers of every format, safe and unsafe.
func seeds() [][]byte {
	return [][]byte{
		qcow2(qcow2Opts{version: 2}),
		qcow2(qcow2Opts{version: 3}),
		qcow2(qcow2Opts{version: 3, backing: "/etc/passwd"}),
		qcow2(qcow2Opts{version: 3, incompatible: 1 << 2}),
		qcow2(qcow2Opts{version: 3, extensions: [][2]any{{uint32(0x44415441), []byte("/etc/shadow")}}}),
		vmdkSparse(vmdkDescriptor("monolithicSparse", `RW 4194304 SPARSE "disk.vmdk"`)),
		vmdkSparse(vmdkDescriptor("monolithicSparse", `RW 4194304 SPARSE "disk.vmdk"`, `RW 2048 FLAT "/etc/shadow" 0`)),
		[]byte(vmdkDescriptor("monolithicFlat", `RW 4194304 FLAT "/etc/passwd" 0`)),
		iso(),
		mbr(true),
		mbr(false),
		vhd(3),
		vhd(4),
		vhdx(false),
		vdi(1),
		qed(true),
		[]byte("raw bytes"),
	}
}

// FuzzInspect feeds arbitrary bytes to the inspector: it must never
// panic, and whatever it accepts must be consistent with the raw header
// bytes, in particular no accepted qcow2 may have a backing or data file.
func FuzzInspect(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	known := []string{format.Raw, format.QCOW2, format.QED, format.VMDK, format.VHD, format.VHDX,
		format.VDI, format.ISO, format.GPT, format.MBR}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := inspect(data)
		if err != nil {
			var fe *format.Error
			if !errors.As(err, &fe) || fe.Reason == "" {
				t.Fatalf("Inspect failed with %T %v, want a *format.Error with a reason", err, err)
			}
			return
		}
		if !slices.Contains(known, info.Format) || info.VirtualSize < 0 {
			t.Fatalf("Inspect = %+v: unknown format or negative size", info)
		}
		switch info.Format {
		case format.Raw, format.GPT, format.MBR, format.ISO:
			if info.VirtualSize != int64(len(data)) {
				t.Fatalf("%s virtual size %d, want the data length %d", info.Format, info.VirtualSize, len(data))
			}
		case format.QCOW2:
			be := binary.BigEndian
			if be.Uint64(data[8:]) != 0 || be.Uint32(data[16:]) != 0 {
				t.Fatalf("accepted a qcow2 with a backing file")
			}
			if be.Uint32(data[4:]) == 3 && be.Uint64(data[72:])&(1<<2) != 0 {
				t.Fatalf("accepted a qcow2 with the external data file bit")
			}
		case format.VMDK:
			if !bytes.HasPrefix(data, []byte("KDMV")) {
				t.Fatalf("accepted a VMDK without an embedded sparse extent")
			}
		}
	})
}

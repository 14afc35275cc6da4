package configdrive

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is a small ISO 9660 (ECMA-119) writer for read-only images of a
// few small files, with the two extensions guests rely on for real file
// names: Rock Ridge (RRIP 1.10, "RRIP_1991A": POSIX names and modes in the
// System Use area of the primary tree, what Linux reads) and Joliet (a
// second directory tree of UCS-2 names behind a supplementary volume
// descriptor, what Windows reads). The primary tree's own identifiers are
// ISO 9660 level 2 names (upper case d-characters, at most 31 characters),
// the names of last resort. Both trees share the file data.
//
// Layout, in 2048-byte sectors: 16 zero sectors of system area; the primary
// volume descriptor, the Joliet supplementary volume descriptor and the
// set terminator; four path tables (type L and M for each tree); the
// primary directories; the Joliet directories; the file data; and 150 zero
// sectors of padding, as genisoimage adds so that read-ahead at the end of
// a CD-ROM never fails.

const (
	sectorSize     = 2048
	systemSectors  = 16
	paddingSectors = 150
	maxJolietName  = 64 // UCS-2 characters

	modeDir  = 0o040555
	modeFile = 0o100444

	rripID  = "RRIP_1991A"
	rripDes = "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS"
	rripSrc = "SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR"

	publisher   = "STRATUS"
	application = "STRATUS CONFIG DRIVE"
)

type isoNode struct {
	name     string // the real name: Rock Ridge NM and Joliet identifier
	dir      bool
	data     []byte
	parent   *isoNode
	children []*isoNode // in primary (ISO 9660) order
	jorder   []*isoNode // the same children in Joliet order

	pid []byte // primary identifier
	jid []byte // Joliet identifier (UCS-2 big endian)

	extent  uint32 // file data, or the primary directory's extent
	size    uint32 // file length, or the primary directory's extent length
	jExtent uint32 // Joliet directory extent
	jSize   uint32
	num     int // number in the primary path table (1 = root)
	jNum    int // number in the Joliet path table
}

func (n *isoNode) subdirs() int {
	c := 0
	for _, ch := range n.children {
		if ch.dir {
			c++
		}
	}
	return c
}

// buildISO returns an ISO 9660 image with the given files (slash-separated
// relative paths) and volume label.
func buildISO(label string, files map[string][]byte) ([]byte, error) {
	if label == "" || len(label) > 32 {
		return nil, fmt.Errorf("configdrive: volume label %q must have 1 to 32 characters", label)
	}
	root := &isoNode{dir: true}
	root.parent = root
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := addFile(root, p, files[p]); err != nil {
			return nil, err
		}
	}
	if err := nameTree(root); err != nil {
		return nil, err
	}

	now := time.Now().UTC().Truncate(time.Second)
	primaryDirs := bfs(root, func(n *isoNode) []*isoNode { return n.children })
	jolietDirs := bfs(root, func(n *isoNode) []*isoNode { return n.jorder })
	for i, d := range primaryDirs {
		d.num = i + 1
	}
	for i, d := range jolietDirs {
		d.jNum = i + 1
	}
	ptPrimary := pathTable(primaryDirs, false, func(n *isoNode) ([]byte, uint32, int) { return n.pid, n.extent, n.parent.num })
	ptJoliet := pathTable(jolietDirs, false, func(n *isoNode) ([]byte, uint32, int) { return n.jid, n.jExtent, n.parent.jNum })

	// Allocate: descriptors, path tables, directories, files.
	next := uint32(systemSectors + 3)
	alloc := func(bytes int) uint32 {
		at := next
		next += uint32(sectors(bytes))
		return at
	}
	ptLPrimary, ptMPrimary := alloc(len(ptPrimary)), alloc(len(ptPrimary))
	ptLJoliet, ptMJoliet := alloc(len(ptJoliet)), alloc(len(ptJoliet))
	for _, d := range primaryDirs {
		d.size = uint32(dirExtentSize(d, false))
		d.extent = alloc(int(d.size))
	}
	for _, d := range jolietDirs {
		d.jSize = uint32(dirExtentSize(d, true))
		d.jExtent = alloc(int(d.jSize))
	}
	for _, d := range primaryDirs {
		for _, f := range d.children {
			if !f.dir {
				f.size = uint32(len(f.data))
				f.extent = alloc(len(f.data))
			}
		}
	}
	total := next + paddingSectors

	img := make([]byte, int(total)*sectorSize)
	at := func(s uint32) []byte { return img[int(s)*sectorSize:] }

	// Path tables hold the extents: render them again now that they are known.
	ptPrimary = pathTable(primaryDirs, false, func(n *isoNode) ([]byte, uint32, int) { return n.pid, n.extent, n.parent.num })
	copy(at(ptLPrimary), ptPrimary)
	copy(at(ptMPrimary), pathTable(primaryDirs, true, func(n *isoNode) ([]byte, uint32, int) { return n.pid, n.extent, n.parent.num }))
	ptJoliet = pathTable(jolietDirs, false, func(n *isoNode) ([]byte, uint32, int) { return n.jid, n.jExtent, n.parent.jNum })
	copy(at(ptLJoliet), ptJoliet)
	copy(at(ptMJoliet), pathTable(jolietDirs, true, func(n *isoNode) ([]byte, uint32, int) { return n.jid, n.jExtent, n.parent.jNum }))

	for _, d := range primaryDirs {
		copy(at(d.extent), dirExtent(d, false, now))
	}
	for _, d := range jolietDirs {
		copy(at(d.jExtent), dirExtent(d, true, now))
	}
	for _, d := range primaryDirs {
		for _, f := range d.children {
			if !f.dir {
				copy(at(f.extent), f.data)
			}
		}
	}

	pvd := volumeDescriptor(1, label, total, len(ptPrimary), ptLPrimary, ptMPrimary,
		record([]byte{0}, root.extent, root.size, true, now, nil), now, false)
	copy(at(systemSectors), pvd)
	svd := volumeDescriptor(2, label, total, len(ptJoliet), ptLJoliet, ptMJoliet,
		record([]byte{0}, root.jExtent, root.jSize, true, now, nil), now, true)
	copy(at(systemSectors+1), svd)
	term := at(systemSectors + 2)
	term[0] = 255
	copy(term[1:6], "CD001")
	term[6] = 1
	return img, nil
}

func addFile(root *isoNode, p string, data []byte) error {
	if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p {
		return fmt.Errorf("configdrive: bad file path %q", p)
	}
	parts := strings.Split(p, "/")
	cur := root
	for i, part := range parts {
		if !utf8.ValidString(part) || strings.ContainsRune(part, 0) || part == "." || part == ".." {
			return fmt.Errorf("configdrive: bad file name %q in %q", part, p)
		}
		if len(utf16.Encode([]rune(part)))+2 > maxJolietName {
			return fmt.Errorf("configdrive: file name %q is longer than %d characters", part, maxJolietName-2)
		}
		last := i == len(parts)-1
		var found *isoNode
		for _, c := range cur.children {
			if c.name == part {
				found = c
			}
		}
		switch {
		case found == nil:
			found = &isoNode{name: part, dir: !last, parent: cur}
			if last {
				found.data = data
			}
			cur.children = append(cur.children, found)
		case last || !found.dir:
			return fmt.Errorf("configdrive: %q is both a file and a directory", p)
		}
		cur = found
	}
	return nil
}

// nameTree gives every node its primary and Joliet identifiers and sorts
// each directory's children for both trees.
func nameTree(d *isoNode) error {
	used := map[string]bool{}
	for _, c := range d.children {
		id := primaryName(c.name, c.dir)
		for i := 1; used[id]; i++ {
			id = uniquify(primaryName(c.name, c.dir), c.dir, i)
		}
		used[id] = true
		c.pid = []byte(id)
		j := c.name
		if !c.dir {
			j += ";1"
		}
		c.jid = ucs2(j)
	}
	slices.SortFunc(d.children, func(a, b *isoNode) int { return comparePrimary(string(a.pid), string(b.pid)) })
	d.jorder = slices.Clone(d.children)
	slices.SortFunc(d.jorder, func(a, b *isoNode) int { return bytes.Compare(a.jid, b.jid) })
	for _, c := range d.children {
		if c.dir {
			if err := nameTree(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// primaryName maps name to an ISO 9660 level 2 identifier: d-characters
// (A-Z, 0-9, _) only, files as NAME.EXT;1 within 30 characters,
// directories within 31.
func primaryName(name string, dir bool) string {
	clean := func(s string, max int) string {
		var b strings.Builder
		for _, r := range strings.ToUpper(s) {
			if b.Len() >= max {
				break
			}
			if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		return b.String()
	}
	if dir {
		return clean(name, 31)
	}
	base, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		base, ext = name[:i], name[i+1:]
	}
	ext = clean(ext, 8)
	base = clean(base, 30-1-len(ext))
	return base + "." + ext + ";1"
}

// uniquify replaces the end of a primary identifier's name part with _i.
func uniquify(id string, dir bool, i int) string {
	suffix := fmt.Sprintf("_%d", i)
	name, rest := id, ""
	if !dir {
		j := strings.IndexByte(id, '.')
		name, rest = id[:j], id[j:]
	}
	max := 31
	if !dir {
		max = 30 - (len(rest) - 2) // rest is ".EXT;1"
	}
	if len(name)+len(suffix) > max {
		name = name[:max-len(suffix)]
	}
	return name + suffix + rest
}

// comparePrimary orders primary identifiers as ECMA-119 9.3 does: by name,
// then extension, each padded with spaces, then version.
func comparePrimary(a, b string) int {
	split := func(s string) (string, string, string) {
		name, ver, _ := strings.Cut(s, ";")
		name, ext, _ := strings.Cut(name, ".")
		return name, ext, ver
	}
	padCmp := func(x, y string) int {
		for i := 0; i < max(len(x), len(y)); i++ {
			cx, cy := byte(' '), byte(' ')
			if i < len(x) {
				cx = x[i]
			}
			if i < len(y) {
				cy = y[i]
			}
			if cx != cy {
				return int(cx) - int(cy)
			}
		}
		return 0
	}
	an, ae, av := split(a)
	bn, be, bv := split(b)
	if c := padCmp(an, bn); c != 0 {
		return c
	}
	if c := padCmp(ae, be); c != 0 {
		return c
	}
	return strings.Compare(bv, av) // higher versions first
}

func ucs2(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.BigEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func sectors(n int) int { return (n + sectorSize - 1) / sectorSize }

// bfs lists the directories in path table order: by level, then by parent,
// then by identifier.
func bfs(root *isoNode, children func(*isoNode) []*isoNode) []*isoNode {
	out := []*isoNode{root}
	for i := 0; i < len(out); i++ {
		for _, c := range children(out[i]) {
			if c.dir {
				out = append(out, c)
			}
		}
	}
	return out
}

// pathTable renders a path table (ECMA-119 9.4), little endian (type L) or
// big endian (type M).
func pathTable(dirs []*isoNode, bigEndian bool, info func(*isoNode) (id []byte, extent uint32, parent int)) []byte {
	var order binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	var b []byte
	for i, d := range dirs {
		id, extent, parent := info(d)
		if i == 0 {
			id, parent = []byte{0}, 1
		}
		rec := make([]byte, 8+len(id)+len(id)%2)
		rec[0] = byte(len(id))
		order.PutUint32(rec[2:], extent)
		order.PutUint16(rec[6:], uint16(parent))
		copy(rec[8:], id)
		b = append(b, rec...)
	}
	return b
}

// entries returns the directory records of d's extent, "." and ".." first.
func entries(d *isoNode, joliet bool, now time.Time) [][]byte {
	var recs [][]byte
	self, parent := d.extent, d.parent.extent
	selfSize, parentSize := d.size, d.parent.size
	kids := d.children
	if joliet {
		self, parent = d.jExtent, d.parent.jExtent
		selfSize, parentSize = d.jSize, d.parent.jSize
		kids = d.jorder
	}
	var dotSU, dotdotSU []byte
	if !joliet {
		dotSU = px(d)
		if d.parent == d {
			dotSU = slices.Concat(sp(), px(d), er())
		}
		dotdotSU = px(d.parent)
	}
	recs = append(recs, record([]byte{0}, self, selfSize, true, now, dotSU))
	recs = append(recs, record([]byte{1}, parent, parentSize, true, now, dotdotSU))
	for _, c := range kids {
		if joliet {
			size, extent := c.size, c.extent
			if c.dir {
				size, extent = c.jSize, c.jExtent
			}
			recs = append(recs, record(c.jid, extent, size, c.dir, now, nil))
		} else {
			recs = append(recs, record(c.pid, c.extent, c.size, c.dir, now, slices.Concat(px(c), nm(c.name))))
		}
	}
	return recs
}

// dirExtentSize is the length of d's directory extent: its records packed
// into sectors, none crossing a sector boundary (ECMA-119 6.8.1.1). Sizes
// do not depend on extents, so this works before allocation.
func dirExtentSize(d *isoNode, joliet bool) int {
	used, secs := 0, 1
	for _, r := range entries(d, joliet, time.Time{}) {
		if used+len(r) > sectorSize {
			secs++
			used = 0
		}
		used += len(r)
	}
	return secs * sectorSize
}

func dirExtent(d *isoNode, joliet bool, now time.Time) []byte {
	var b []byte
	used := 0
	for _, r := range entries(d, joliet, now) {
		if used+len(r) > sectorSize {
			b = append(b, make([]byte, sectorSize-used)...)
			used = 0
		}
		b = append(b, r...)
		used += len(r)
	}
	return b
}

// record renders a directory record (ECMA-119 9.1) with System Use su.
func record(id []byte, extent, size uint32, dir bool, t time.Time, su []byte) []byte {
	if len(su)%2 == 1 {
		su = append(su, 0)
	}
	n := 33 + len(id) + (len(id)+1)%2 + len(su)
	if n > 255 {
		panic(fmt.Sprintf("configdrive: directory record for %q is %d bytes", id, n))
	}
	r := make([]byte, n)
	r[0] = byte(n)
	both32(r[2:], extent)
	both32(r[10:], size)
	recordTime(r[18:], t)
	if dir {
		r[25] = 2
	}
	both16(r[28:], 1)
	r[32] = byte(len(id))
	copy(r[33:], id)
	copy(r[33+len(id)+(len(id)+1)%2:], su)
	return r
}

func recordTime(b []byte, t time.Time) {
	if t.IsZero() {
		return
	}
	b[0] = byte(t.Year() - 1900)
	b[1] = byte(t.Month())
	b[2] = byte(t.Day())
	b[3] = byte(t.Hour())
	b[4] = byte(t.Minute())
	b[5] = byte(t.Second())
	b[6] = 0 // UTC
}

// Rock Ridge and SUSP entries.

func sp() []byte { return []byte{'S', 'P', 7, 1, 0xbe, 0xef, 0} }

func px(n *isoNode) []byte {
	b := make([]byte, 36)
	copy(b, "PX")
	b[2], b[3] = 36, 1
	mode, links := uint32(modeFile), uint32(1)
	if n.dir {
		mode, links = modeDir, uint32(2+n.subdirs())
	}
	both32(b[4:], mode)
	both32(b[12:], links)
	// uid and gid 0
	return b
}

func nm(name string) []byte {
	b := []byte{'N', 'M', byte(5 + len(name)), 1, 0}
	return append(b, name...)
}

func er() []byte {
	b := []byte{'E', 'R', byte(8 + len(rripID) + len(rripDes) + len(rripSrc)), 1,
		byte(len(rripID)), byte(len(rripDes)), byte(len(rripSrc)), 1}
	return slices.Concat(b, []byte(rripID), []byte(rripDes), []byte(rripSrc))
}

// volumeDescriptor renders the primary (type 1) or Joliet supplementary
// (type 2) volume descriptor (ECMA-119 8.4, 8.5).
func volumeDescriptor(typ byte, label string, total uint32, ptSize int, ptL, ptM uint32, rootRecord []byte, now time.Time, joliet bool) []byte {
	b := make([]byte, sectorSize)
	b[0] = typ
	copy(b[1:6], "CD001")
	b[6] = 1
	text := func(off, n int, s string) {
		if joliet {
			u := ucs2(s)
			for i := 0; i+1 < n; i += 2 {
				if i+1 < len(u) {
					b[off+i], b[off+i+1] = u[i], u[i+1]
				} else {
					b[off+i], b[off+i+1] = 0, ' '
				}
			}
			return
		}
		copy(b[off:off+n], bytes.Repeat([]byte{' '}, n))
		copy(b[off:off+n], s)
	}
	text(8, 32, "LINUX")
	text(40, 32, label)
	both32(b[80:], total)
	if joliet {
		copy(b[88:], "%/E") // UCS-2 level 3
	}
	both16(b[120:], 1)
	both16(b[124:], 1)
	both16(b[128:], sectorSize)
	both32(b[132:], uint32(ptSize))
	binary.LittleEndian.PutUint32(b[140:], ptL)
	binary.BigEndian.PutUint32(b[148:], ptM)
	copy(b[156:190], rootRecord)
	text(190, 128, "")
	text(318, 128, publisher)
	text(446, 128, publisher)
	text(574, 128, application)
	text(702, 37, "")
	text(739, 37, "")
	text(776, 37, "")
	stamp := []byte(now.Format("20060102150405") + "00")
	copy(b[813:], stamp)
	copy(b[830:], stamp)
	copy(b[847:], "0000000000000000")
	copy(b[864:], stamp)
	b[881] = 1
	return b
}

func both32(b []byte, v uint32) {
	binary.LittleEndian.PutUint32(b, v)
	binary.BigEndian.PutUint32(b[4:], v)
}

func both16(b []byte, v uint16) {
	binary.LittleEndian.PutUint16(b, v)
	binary.BigEndian.PutUint16(b[2:], v)
}

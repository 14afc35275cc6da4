package configdrive

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/kdomanski/iso9660"
)

// readISO reads every file of img back with the iso9660 package (which
// reads the primary tree and its Rock Ridge names) and returns them by path.
func readISO(t *testing.T, img []byte) (label string, files map[string][]byte) {
	t.Helper()
	im, err := iso9660.OpenImage(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("OpenImage: %v", err)
	}
	label, err = im.Label()
	if err != nil {
		t.Fatal(err)
	}
	root, err := im.RootDir()
	if err != nil {
		t.Fatal(err)
	}
	files = map[string][]byte{}
	var walk func(dir *iso9660.File, prefix string)
	walk = func(dir *iso9660.File, prefix string) {
		kids, err := dir.GetChildren()
		if err != nil {
			t.Fatalf("%s: %v", prefix, err)
		}
		for _, k := range kids {
			p := prefix + k.Name()
			if k.IsDir() {
				if k.Mode() != 0o555|0o20000000000 {
					t.Errorf("%s: mode %v, want dr-xr-xr-x", p, k.Mode())
				}
				walk(k, p+"/")
				continue
			}
			if k.Mode() != 0o444 {
				t.Errorf("%s: mode %v, want -r--r--r--", p, k.Mode())
			}
			b, err := io.ReadAll(k.Reader())
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			files[p] = b
		}
	}
	walk(root, "")
	return label, files
}

func testDrive() Drive {
	return Drive{
		UUID:             "6f2ec1a4-3d6e-4f55-9d8e-1c0a4c9b2f11",
		Name:             "web 1",
		Hostname:         "web-1",
		ProjectID:        "8a1f0c3e0b7c4e0f9a3b5d6c7e8f9012",
		AvailabilityZone: "nova",
		PublicKeys: map[string]string{
			"laptop": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk0tRPhj1lXnXqvqO1J8Oq2m7cEo8ZBbqA0fU5n3vx2 me@laptop <home>\n",
			"ci":     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOyQ1T2d9eR8o4W9jv7yV0l0r1q9mS9xQm8m4y3kT0aa ci",
		},
		Metadata: map[string]string{"role": "web", "hostname": "not-this-one"},
		UserData: []byte("#!/bin/sh\necho hello\n"),
		Network: NetworkData{
			Interfaces: []Interface{{
				PortID:    "3a9d5c1e-77b2-4e0e-9f3c-2b8d6a1f4e55",
				NetworkID: "b1c2d3e4-0000-4000-8000-000000000001",
				MAC:       "FA:16:3E:01:02:03",
				MTU:       1450,
				Addresses: []string{"10.0.0.5/24", "2001:db8::5/64"},
				Gateway:   "10.0.0.1",
				Gateway6:  "2001:db8::1",
				Routes:    []Route{{Destination: "192.168.0.0/16", Gateway: "10.0.0.254"}},
				DNS:       []string{"10.0.0.2"},
			}},
			DNS: []string{"9.9.9.9", "10.0.0.2"},
		},
	}
}

func TestBuildLayout(t *testing.T) {
	d := testDrive()
	img, err := Build(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(img)%2048 != 0 {
		t.Fatalf("image is %d bytes, not whole sectors", len(img))
	}
	label, files := readISO(t, img)
	if label != "config-2" {
		t.Errorf("label %q, want config-2", label)
	}
	var want []string
	for _, v := range []string{"2018-08-27", "latest"} {
		for _, f := range []string{"meta_data.json", "network_data.json", "user_data", "vendor_data.json"} {
			want = append(want, "openstack/"+v+"/"+f)
		}
	}
	if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, want) {
		t.Fatalf("files:\n got %q\nwant %q", got, want)
	}
	for _, f := range []string{"meta_data.json", "network_data.json", "user_data", "vendor_data.json"} {
		if !bytes.Equal(files["openstack/latest/"+f], files["openstack/2018-08-27/"+f]) {
			t.Errorf("%s differs between latest and 2018-08-27", f)
		}
	}
	if got := string(files["openstack/latest/user_data"]); got != string(d.UserData) {
		t.Errorf("user_data %q, want %q", got, d.UserData)
	}
	if got := string(files["openstack/latest/vendor_data.json"]); got != "{}" {
		t.Errorf("vendor_data.json %q, want {}", got)
	}

	raw := files["openstack/latest/meta_data.json"]
	var meta map[string]any
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatalf("meta_data.json: %v\n%s", err, raw)
	}
	seed, _ := base64.StdEncoding.DecodeString(meta["random_seed"].(string))
	if len(seed) != 512 {
		t.Errorf("random_seed has %d bytes, want 512", len(seed))
	}
	delete(meta, "random_seed")
	wantMeta := map[string]any{
		"uuid":              d.UUID,
		"name":              "web 1",
		"hostname":          "web-1",
		"project_id":        d.ProjectID,
		"availability_zone": "nova",
		"launch_index":      float64(0),
		"meta":              map[string]any{"role": "web", "hostname": "not-this-one"},
		"public_keys": map[string]any{
			"laptop": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk0tRPhj1lXnXqvqO1J8Oq2m7cEo8ZBbqA0fU5n3vx2 me@laptop <home>",
			"ci":     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOyQ1T2d9eR8o4W9jv7yV0l0r1q9mS9xQm8m4y3kT0aa ci",
		},
		"keys": []any{
			map[string]any{"name": "ci", "type": "ssh", "data": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOyQ1T2d9eR8o4W9jv7yV0l0r1q9mS9xQm8m4y3kT0aa ci"},
			map[string]any{"name": "laptop", "type": "ssh", "data": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk0tRPhj1lXnXqvqO1J8Oq2m7cEo8ZBbqA0fU5n3vx2 me@laptop <home>"},
		},
		"devices": []any{},
	}
	if !reflect.DeepEqual(meta, wantMeta) {
		t.Errorf("meta_data.json:\n got %v\nwant %v", meta, wantMeta)
	}
	if !bytes.Contains(raw, []byte("<home>")) {
		t.Errorf("meta_data.json escapes HTML characters: %s", raw)
	}

	var network map[string]any
	if err := json.Unmarshal(files["openstack/latest/network_data.json"], &network); err != nil {
		t.Fatal(err)
	}
	wantNetwork := map[string]any{
		"links": []any{map[string]any{
			"id": "tap3a9d5c1e-77", "type": "phy", "ethernet_mac_address": "fa:16:3e:01:02:03",
			"mtu": float64(1450), "vif_id": "3a9d5c1e-77b2-4e0e-9f3c-2b8d6a1f4e55",
		}},
		"networks": []any{
			map[string]any{
				"id": "network0", "type": "ipv4", "link": "tap3a9d5c1e-77",
				"ip_address": "10.0.0.5", "netmask": "255.255.255.0",
				"routes": []any{
					map[string]any{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.0.1"},
					map[string]any{"network": "192.168.0.0", "netmask": "255.255.0.0", "gateway": "10.0.0.254"},
				},
				"network_id": "b1c2d3e4-0000-4000-8000-000000000001",
				"services":   []any{map[string]any{"type": "dns", "address": "10.0.0.2"}},
			},
			map[string]any{
				"id": "network1", "type": "ipv6", "link": "tap3a9d5c1e-77",
				"ip_address": "2001:db8::5", "netmask": "ffff:ffff:ffff:ffff::",
				"routes":     []any{map[string]any{"network": "::", "netmask": "::", "gateway": "2001:db8::1"}},
				"network_id": "b1c2d3e4-0000-4000-8000-000000000001",
				"services":   []any{map[string]any{"type": "dns", "address": "10.0.0.2"}},
			},
		},
		"services": []any{
			map[string]any{"type": "dns", "address": "10.0.0.2"},
			map[string]any{"type": "dns", "address": "9.9.9.9"},
		},
	}
	if !reflect.DeepEqual(network, wantNetwork) {
		got, _ := json.MarshalIndent(network, "", " ")
		t.Errorf("network_data.json:\n%s", got)
	}
}

func TestBuildMinimal(t *testing.T) {
	img, err := Build(Drive{UUID: "u-1", Name: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	_, files := readISO(t, img)
	if _, ok := files["openstack/latest/user_data"]; ok {
		t.Error("user_data written without user data")
	}
	var meta map[string]any
	if err := json.Unmarshal(files["openstack/latest/meta_data.json"], &meta); err != nil {
		t.Fatal(err)
	}
	if meta["hostname"] != "tiny" {
		t.Errorf("hostname %v, want the name when no hostname is given", meta["hostname"])
	}
	if _, ok := meta["public_keys"]; ok {
		t.Error("public_keys present without keys (Nova omits it)")
	}
	if m, ok := meta["meta"].(map[string]any); !ok || len(m) != 0 {
		t.Errorf("meta = %v, want {}", meta["meta"])
	}
	if got := string(files["openstack/latest/network_data.json"]); got != `{"links":[],"networks":[],"services":[]}` {
		t.Errorf("network_data.json = %s", got)
	}
}

func TestNetworkDataDHCP(t *testing.T) {
	got, err := networkData(NetworkData{Interfaces: []Interface{
		{MAC: "52:54:00:aa:bb:cc", DHCP: true},
		{MAC: "52:54:00:aa:bb:cd", LinkID: "eth1", Addresses: []string{"192.0.2.9/28"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"links":[` +
		`{"id":"interface0","type":"phy","ethernet_mac_address":"52:54:00:aa:bb:cc","mtu":null},` +
		`{"id":"eth1","type":"phy","ethernet_mac_address":"52:54:00:aa:bb:cd","mtu":null}],` +
		`"networks":[{"id":"network0","type":"ipv4_dhcp","link":"interface0"},` +
		`{"id":"network1","type":"ipv4","link":"eth1","ip_address":"192.0.2.9","netmask":"255.255.255.240"}],` +
		`"services":[]}`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestBuildErrors(t *testing.T) {
	iface := func(f func(*Interface)) Drive {
		i := Interface{MAC: "52:54:00:00:00:01"}
		f(&i)
		return Drive{UUID: "u", Network: NetworkData{Interfaces: []Interface{i}}}
	}
	for name, d := range map[string]Drive{
		"no uuid":          {Name: "x"},
		"bad mac":          iface(func(i *Interface) { i.MAC = "52:54:00" }),
		"no mac":           iface(func(i *Interface) { i.MAC = "" }),
		"address not cidr": iface(func(i *Interface) { i.Addresses = []string{"10.0.0.5"} }),
		"v4 gateway for v6": iface(func(i *Interface) {
			i.Addresses = []string{"2001:db8::5/64"}
			i.Gateway6 = "10.0.0.1"
		}),
		"bad dns": iface(func(i *Interface) { i.DNS = []string{"dns.example"} }),
		"bad route": iface(func(i *Interface) {
			i.Addresses = []string{"10.0.0.5/24"}
			i.Routes = []Route{{Destination: "x", Gateway: "10.0.0.1"}}
		}),
		"same link": {UUID: "u", Network: NetworkData{Interfaces: []Interface{
			{MAC: "52:54:00:00:00:01", LinkID: "a"}, {MAC: "52:54:00:00:00:02", LinkID: "a"},
		}}},
	} {
		if _, err := Build(d); err == nil {
			t.Errorf("%s: Build succeeded", name)
		}
	}
}

// rawTree reads img's primary tree (ISO 9660 identifiers, or with rr its
// Rock Ridge names and modes) or Joliet tree with a reader of its own,
// checks the tree against its path tables, and returns path -> content.
// (The iso9660 package cannot check these: it reads neither Joliet nor
// path tables, and v0.4.0 mixes up Rock Ridge names in directories longer
// than one sector, as it keeps slices of a sector buffer it reuses.)
func rawTree(t *testing.T, img []byte, joliet, rr bool) map[string][]byte {
	t.Helper()
	vd := img[16*2048 : 17*2048]
	if joliet {
		vd = img[17*2048 : 18*2048]
		if vd[0] != 2 || string(vd[88:91]) != "%/E" {
			t.Fatalf("sector 17 is not a Joliet volume descriptor")
		}
		if got := decodeUCS2(vd[40:72]); strings.TrimRight(got, " ") != "config-2" {
			t.Errorf("Joliet label %q", got)
		}
	}
	u32 := func(b []byte) uint32 {
		le, be := binary.LittleEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
		if le != be {
			t.Fatalf("both-endian field differs: %d != %d", le, be)
		}
		return le
	}
	if total := u32(vd[80:]); int(total)*2048 != len(img) {
		t.Errorf("volume space size %d sectors, image has %d", total, len(img)/2048)
	}
	name := func(id, su []byte, dir bool) string {
		if joliet {
			return strings.TrimSuffix(decodeUCS2(id), ";1")
		}
		if !rr {
			return string(id)
		}
		var nm string
		var mode uint32
		for len(su) >= 4 && int(su[2]) <= len(su) && su[2] >= 4 {
			e := su[:su[2]]
			switch string(e[:2]) {
			case "NM":
				nm += string(e[5:])
			case "PX":
				mode = u32(e[4:])
			}
			su = su[len(e):]
		}
		want := uint32(0o100444)
		if dir {
			want = 0o040555
		}
		if mode != want {
			t.Errorf("%q: Rock Ridge mode %o, want %o", nm, mode, want)
		}
		return nm
	}
	files := map[string][]byte{}
	dirExtents := map[string]uint32{"": u32(vd[156+2:])}
	var walk func(extent, size uint32, prefix string)
	walk = func(extent, size uint32, prefix string) {
		data := img[extent*2048 : extent*2048+size]
		for off := 0; off < len(data); {
			n := int(data[off])
			if n == 0 {
				off = (off/2048 + 1) * 2048
				continue
			}
			if off%2048+n > 2048 {
				t.Fatalf("%s: directory record crosses a sector boundary", prefix)
			}
			r := data[off : off+n]
			off += n
			idLen := int(r[32])
			id := r[33 : 33+idLen]
			if idLen == 1 && id[0] <= 1 {
				continue
			}
			dir := r[25]&2 != 0
			p := prefix + name(id, r[33+idLen+(idLen+1)%2:], dir)
			if dir {
				dirExtents[p] = u32(r[2:])
				walk(u32(r[2:]), u32(r[10:]), p+"/")
			} else {
				files[p] = img[u32(r[2:])*2048 : u32(r[2:])*2048+u32(r[10:])]
			}
		}
	}
	walk(dirExtents[""], u32(vd[156+10:]), "")

	// The type L and M path tables list every directory with its extent.
	ptSize := u32(vd[132:])
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		loc := binary.LittleEndian.Uint32(vd[140:])
		if order == binary.BigEndian {
			loc = binary.BigEndian.Uint32(vd[148:])
		}
		pt := img[loc*2048 : loc*2048+ptSize]
		var paths []string
		for off := 0; off < len(pt); {
			n := int(pt[off])
			ext := order.Uint32(pt[off+2:])
			parent := int(order.Uint16(pt[off+6:]))
			id := pt[off+8 : off+8+n]
			off += 8 + n + n%2
			p := ""
			if len(paths) > 0 {
				if joliet {
					p = paths[parent-1] + "/" + decodeUCS2(id)
				} else {
					p = paths[parent-1] + "/" + string(id)
				}
				p = strings.TrimPrefix(p, "/")
			}
			paths = append(paths, p)
			if !rr && dirExtents[p] != ext {
				t.Errorf("path table (%v): %q at %d, directory record says %d", order, p, ext, dirExtents[p])
			}
		}
		if len(paths) != len(dirExtents) {
			t.Errorf("path table (%v) lists %d directories, the tree has %d", order, len(paths), len(dirExtents))
		}
	}
	return files
}

func decodeUCS2(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func TestISOJolietAndPrimaryNames(t *testing.T) {
	img, err := Build(testDrive())
	if err != nil {
		t.Fatal(err)
	}
	_, want := readISO(t, img)
	for _, tree := range []struct {
		name       string
		joliet, rr bool
	}{{"Joliet", true, false}, {"Rock Ridge", false, true}} {
		got := rawTree(t, img, tree.joliet, tree.rr)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s tree has %q, want %q", tree.name, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		}
	}
	primary := rawTree(t, img, false, false)
	for _, want := range []string{
		"OPENSTACK/LATEST/META_DATA.JSON;1",
		"OPENSTACK/2018_08_27/NETWORK_DATA.JSON;1",
		"OPENSTACK/LATEST/USER_DATA.;1",
	} {
		if _, ok := primary[want]; !ok {
			t.Errorf("primary tree has no %s: %v", want, slices.Sorted(maps.Keys(primary)))
		}
	}
}

func TestISOManyAndCollidingNames(t *testing.T) {
	files := map[string][]byte{
		"a-b":           []byte("dash"),
		"a_b":           []byte("underscore"),
		"A-B":           []byte("upper"),
		"deep/er/still": bytes.Repeat([]byte("x"), 5000),
		"empty":         {},
		"naïve.txt":     []byte("utf-8"),
	}
	for i := range 120 { // several sectors of directory records
		files[fmt.Sprintf("many/a-rather-long-file-name-%03d.json", i)] = []byte(fmt.Sprint(i))
	}
	img, err := buildISO("config-2", files)
	if err != nil {
		t.Fatal(err)
	}
	for _, tree := range []struct {
		name       string
		joliet, rr bool
	}{{"Joliet", true, false}, {"Rock Ridge", false, true}} {
		got := rawTree(t, img, tree.joliet, tree.rr)
		if len(got) != len(files) {
			t.Errorf("%s: read %d files, wrote %d", tree.name, len(got), len(files))
		}
		for p, want := range files {
			if !bytes.Equal(got[p], want) {
				t.Errorf("%s: %s: read %q, wrote %q", tree.name, p, got[p], want)
			}
		}
	}
	primary := rawTree(t, img, false, false)
	if len(primary) != len(files) {
		t.Errorf("primary tree has %d files, want %d", len(primary), len(files))
	}
	for p := range primary {
		for _, r := range p {
			if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./;", r) {
				t.Errorf("primary identifier %q has %q", p, r)
			}
		}
	}
}

func TestBuildISOErrors(t *testing.T) {
	for _, files := range []map[string][]byte{
		{"/abs": nil},
		{"a/../b": nil},
		{"a": nil, "a/b": nil},
		{strings.Repeat("x", 63): nil},
	} {
		if _, err := buildISO("config-2", files); err == nil {
			t.Errorf("buildISO(%q) succeeded", slices.Collect(maps.Keys(files)))
		}
	}
}

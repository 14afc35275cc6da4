package hypervisor

import (
	"encoding/xml"
	"fmt"
	"regexp"

	"github.com/google/uuid"
	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"
)

// MetadataNamespace is the XML namespace of the element Stratus writes into
// every domain's <metadata>. The metering service reads instance, project and
// flavor from it (virDomainGetMetadata with this URI).
const MetadataNamespace = "https://stratus-cloud.dev/xmlns/instance/1"

// Metadata is what a domain records about the server it runs. In the domain
// XML it reads:
//
//	<stratus:instance xmlns:stratus="https://stratus-cloud.dev/xmlns/instance/1">
//	  <stratus:cloud>…</stratus:cloud>
//	  <stratus:id>…</stratus:id> <stratus:name>…</stratus:name>
//	  <stratus:project>…</stratus:project> <stratus:user>…</stratus:user>
//	  <stratus:flavor id="…" name="…">
//	    <stratus:vcpus>1</stratus:vcpus> <stratus:ram>512</stratus:ram> <stratus:disk>1</stratus:disk>
//	  </stratus:flavor>
//	  <stratus:image>…</stratus:image>
//	</stratus:instance>
//
// ram is in MiB and disk in GiB, as in Nova flavors. cloud identifies the
// Stratus deployment that owns the domain, so two clouds sharing a host (or
// a test run next to a cloud) never take each other's domains for orphans.
type Metadata struct {
	Cloud     string `xml:"cloud"`
	ID        string `xml:"id"`
	Name      string `xml:"name"`
	ProjectID string `xml:"project"`
	UserID    string `xml:"user"`
	Flavor    Flavor `xml:"flavor"`
	ImageID   string `xml:"image"`
}

// Flavor is a server's size as recorded in Metadata (and given to
// ResizeFlavor).
type Flavor struct {
	ID        string `xml:"id,attr"`
	Name      string `xml:"name,attr"`
	VCPUs     int    `xml:"vcpus"`
	MemoryMiB int64  `xml:"ram"`
	DiskGiB   int    `xml:"disk"`
}

// metadataWire is Metadata with literal "stratus:" prefixes: encoding/xml
// can only write a namespace as a default xmlns, and a prefixed element is
// what libvirt itself writes after virDomainSetMetadata and what operators
// know from Nova's <nova:instance>.
type metadataWire struct {
	XMLName   xml.Name `xml:"stratus:instance"`
	NS        string   `xml:"xmlns:stratus,attr"`
	Cloud     string   `xml:"stratus:cloud"`
	ID        string   `xml:"stratus:id"`
	Name      string   `xml:"stratus:name"`
	ProjectID string   `xml:"stratus:project"`
	UserID    string   `xml:"stratus:user"`
	Flavor    struct {
		ID        string `xml:"id,attr"`
		Name      string `xml:"name,attr"`
		VCPUs     int    `xml:"stratus:vcpus"`
		MemoryMiB int64  `xml:"stratus:ram"`
		DiskGiB   int    `xml:"stratus:disk"`
	} `xml:"stratus:flavor"`
	ImageID string `xml:"stratus:image"`
}

func (m Metadata) marshal() (string, error) {
	w := metadataWire{NS: MetadataNamespace, Cloud: m.Cloud, ID: m.ID, Name: m.Name, ProjectID: m.ProjectID, UserID: m.UserID, ImageID: m.ImageID}
	w.Flavor.ID, w.Flavor.Name = m.Flavor.ID, m.Flavor.Name
	w.Flavor.VCPUs, w.Flavor.MemoryMiB, w.Flavor.DiskGiB = m.Flavor.VCPUs, m.Flavor.MemoryMiB, m.Flavor.DiskGiB
	b, err := xml.Marshal(w)
	return string(b), err
}

// parseMetadata reads the element virDomainGetMetadata returns. Field tags
// carry no namespace, so the prefixed and the unprefixed forms both decode.
func parseMetadata(s string) (Metadata, error) {
	var m Metadata
	if err := xml.Unmarshal([]byte(s), &m); err != nil {
		return Metadata{}, fmt.Errorf("hypervisor: domain metadata: %w", err)
	}
	return m, nil
}

// Names on the host. Server and image ids become file and domain names, so
// they are restricted to characters that cannot escape a directory; a dot
// never appears in an id, which makes "<id>." an unambiguous volume prefix.
const domainPrefix = "stratus-"

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

func checkID(kind, id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("hypervisor: invalid %s id %q", kind, id)
	}
	return nil
}

func domainName(id string) string { return domainPrefix + id }
func diskVolume(id string) string { return id + ".qcow2" }
func configVolume(id string) string {
	return id + ".config.iso"
}
func consoleVolume(id string) string { return id + ".console.log" }
func volumePrefix(id string) string  { return id + "." }
func imageVolume(imageID, format string) string {
	return imageID + "." + format
}

// Guest disk targets: the root disk is vda (SnapshotDisk block-copies it by
// that name), the config drive vdb.
const (
	rootDisk   = "vda"
	configDisk = "vdb"
)

// domainParams is everything buildDomain needs besides the spec.
type domainParams struct {
	VirtType    string // "kvm" or "qemu"
	Arch        string // host architecture from the capabilities
	DiskPath    string
	DiskSerial  string // the boot volume's id when booting from a volume
	ConfigPath  string // empty without a config drive
	ConsolePath string
}

// buildDomain writes the domain definition of a server.
func buildDomain(spec ServerSpec, p domainParams) (*libvirtxml.Domain, error) {
	meta, err := spec.metadata().marshal()
	if err != nil {
		return nil, err
	}
	d := &libvirtxml.Domain{
		Type:          p.VirtType,
		Name:          domainName(spec.ID),
		Metadata:      &libvirtxml.DomainMetadata{XML: meta},
		Memory:        &libvirtxml.DomainMemory{Value: uint(spec.MemoryMiB), Unit: "MiB"},
		CurrentMemory: &libvirtxml.DomainCurrentMemory{Value: uint(spec.MemoryMiB), Unit: "MiB"},
		VCPU:          &libvirtxml.DomainVCPU{Placement: "static", Value: uint(spec.VCPUs)},
		OS: &libvirtxml.DomainOS{
			Type:        &libvirtxml.DomainOSType{Arch: p.Arch, Type: "hvm"},
			BootDevices: []libvirtxml.DomainBootDevice{{Dev: "hd"}},
			// SeaBIOS (and a boot loader using it) prints to the serial
			// console, so ConsoleLog shows why a guest does not boot.
			BIOS: &libvirtxml.DomainBIOS{UseSerial: "yes"},
		},
		// ACPI is what a graceful Stop and a soft Reboot press.
		Features:   &libvirtxml.DomainFeatureList{ACPI: &libvirtxml.DomainFeature{}, APIC: &libvirtxml.DomainFeatureAPIC{}},
		Clock:      &libvirtxml.DomainClock{Offset: "utc"},
		OnPoweroff: "destroy",
		OnReboot:   "restart",
		OnCrash:    "destroy",
		Devices: &libvirtxml.DomainDeviceList{
			Disks: []libvirtxml.DomainDisk{fileDisk(p.DiskPath, "qcow2", rootDisk, false)},
			// Interfaces: the server's NICs, set below.
			Serials: []libvirtxml.DomainSerial{{
				// A pty keeps `virsh console` working; the log copy lands in
				// the instance pool, where ConsoleLog reads it back through
				// the storage API (so it works for remote hosts too), and
				// virtlogd caps and rotates it.
				Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
				Log:    &libvirtxml.DomainChardevLog{File: p.ConsolePath, Append: "on"},
			}},
			// The balloon's stats period makes memory usage readable for
			// the metering poller.
			MemBalloon: &libvirtxml.DomainMemBalloon{Model: "virtio", Stats: &libvirtxml.DomainMemBalloonStats{Period: 10}},
		},
	}
	if _, err := uuid.Parse(spec.ID); err == nil {
		// The domain UUID is the server id, as in Nova, so `virsh dominfo
		// <server id>` works on the host.
		d.UUID = spec.ID
	}
	if p.VirtType == "kvm" {
		d.CPU = &libvirtxml.DomainCPU{Mode: "host-model"}
	}
	d.Devices.Disks[0].Serial = p.DiskSerial
	if p.ConfigPath != "" {
		d.Devices.Disks = append(d.Devices.Disks, fileDisk(p.ConfigPath, "raw", configDisk, true))
	}
	d.Devices.Interfaces = interfaces(spec.NICs)
	return d, nil
}

func fileDisk(path, format, target string, readonly bool) libvirtxml.DomainDisk {
	disk := libvirtxml.DomainDisk{
		Device: "disk",
		Driver: &libvirtxml.DomainDiskDriver{Name: "qemu", Type: format},
		Source: &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: path}},
		Target: &libvirtxml.DomainDiskTarget{Dev: target, Bus: "virtio"},
	}
	if readonly {
		disk.ReadOnly = &libvirtxml.DomainDiskReadOnly{}
	}
	return disk
}

// chooseVirtType picks the domain type for a host: "kvm" only when the host
// CPU advertises hardware virtualisation (vmx or svm) and libvirt lists a
// kvm domain for the host architecture. /dev/kvm alone is not enough: kvm_pvm
// provides it on hosts without VMX/SVM and cannot boot a stock guest kernel.
// override ("kvm" or "qemu", from STRATUS_VIRT_TYPE) wins when set.
func chooseVirtType(caps *libvirtxml.Caps, override string) (string, error) {
	switch override {
	case "kvm", "qemu":
		return override, nil
	case "":
	default:
		return "", fmt.Errorf("hypervisor: STRATUS_VIRT_TYPE=%q: want kvm or qemu", override)
	}
	if caps.Host.CPU == nil || !hasVirtExtensions(caps.Host.CPU) {
		return "qemu", nil
	}
	for _, g := range caps.Guests {
		if g.OSType != "hvm" || g.Arch.Name != caps.Host.CPU.Arch {
			continue
		}
		for _, d := range g.Arch.Domains {
			if d.Type == "kvm" {
				return "kvm", nil
			}
		}
	}
	return "qemu", nil
}

func hasVirtExtensions(cpu *libvirtxml.CapsHostCPU) bool {
	for _, f := range cpu.FeatureFlags {
		if f.Name == "vmx" || f.Name == "svm" {
			return true
		}
	}
	return cpu.Features != nil && (cpu.Features.VMX != nil || cpu.Features.SVM != nil)
}

// PowerState is a server's power state in Nova's numbering, as the compute
// API reports it (OS-EXT-STS:power_state).
type PowerState int

// Nova's power states.
const (
	NoState   PowerState = 0
	Running   PowerState = 1
	Paused    PowerState = 3
	Shutdown  PowerState = 4
	Crashed   PowerState = 6
	Suspended PowerState = 7
)

func (s PowerState) String() string {
	switch s {
	case NoState:
		return "nostate"
	case Running:
		return "running"
	case Paused:
		return "paused"
	case Shutdown:
		return "shutdown"
	case Crashed:
		return "crashed"
	case Suspended:
		return "suspended"
	}
	return fmt.Sprintf("PowerState(%d)", int(s))
}

// powerState maps a libvirt domain state as Nova's libvirt driver does.
func powerState(s libvirt.DomainState) PowerState {
	switch s {
	case libvirt.DOMAIN_RUNNING, libvirt.DOMAIN_BLOCKED:
		return Running
	case libvirt.DOMAIN_PAUSED:
		return Paused
	case libvirt.DOMAIN_SHUTDOWN, libvirt.DOMAIN_SHUTOFF:
		return Shutdown
	case libvirt.DOMAIN_CRASHED:
		return Crashed
	case libvirt.DOMAIN_PMSUSPENDED:
		return Suspended
	}
	return NoState
}

// eventPowerState maps a lifecycle event to the state it leaves the domain
// in; ok is false for events that do not change the power state (defined,
// the shutdown-in-progress notice that precedes "stopped").
func eventPowerState(e *libvirt.DomainEventLifecycle) (state PowerState, ok bool) {
	switch e.Event {
	case libvirt.DOMAIN_EVENT_STARTED, libvirt.DOMAIN_EVENT_RESUMED:
		return Running, true
	case libvirt.DOMAIN_EVENT_SUSPENDED:
		return Paused, true
	case libvirt.DOMAIN_EVENT_STOPPED:
		if libvirt.DomainEventStoppedDetailType(e.Detail) == libvirt.DOMAIN_EVENT_STOPPED_CRASHED {
			return Crashed, true
		}
		return Shutdown, true
	case libvirt.DOMAIN_EVENT_CRASHED:
		return Crashed, true
	case libvirt.DOMAIN_EVENT_PMSUSPENDED:
		return Suspended, true
	case libvirt.DOMAIN_EVENT_UNDEFINED:
		return NoState, true
	}
	return NoState, false
}

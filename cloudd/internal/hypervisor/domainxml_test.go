package hypervisor

import (
	"strings"
	"testing"

	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"
)

func TestChooseVirtType(t *testing.T) {
	guests := func(types ...string) []libvirtxml.CapsGuest {
		var ds []libvirtxml.CapsGuestDomain
		for _, ty := range types {
			ds = append(ds, libvirtxml.CapsGuestDomain{Type: ty})
		}
		return []libvirtxml.CapsGuest{{OSType: "hvm", Arch: libvirtxml.CapsGuestArch{Name: "x86_64", Domains: ds}}}
	}
	cpu := func(features ...string) *libvirtxml.CapsHostCPU {
		c := &libvirtxml.CapsHostCPU{Arch: "x86_64"}
		for _, f := range features {
			c.FeatureFlags = append(c.FeatureFlags, libvirtxml.CapsHostCPUFeatureFlag{Name: f})
		}
		return c
	}
	tests := []struct {
		name     string
		caps     libvirtxml.Caps
		override string
		want     string
		wantErr  bool
	}{
		{"vmx and kvm guests", libvirtxml.Caps{Host: libvirtxml.CapsHost{CPU: cpu("vmx")}, Guests: guests("qemu", "kvm")}, "", "kvm", false},
		{"svm and kvm guests", libvirtxml.Caps{Host: libvirtxml.CapsHost{CPU: cpu("svm")}, Guests: guests("qemu", "kvm")}, "", "kvm", false},
		// kvm_pvm: libvirt lists kvm guests, but the CPU has no VMX/SVM.
		{"kvm guests without vmx/svm", libvirtxml.Caps{Host: libvirtxml.CapsHost{CPU: cpu("avx2", "hypervisor")}, Guests: guests("qemu", "kvm")}, "", "qemu", false},
		{"vmx without kvm guests", libvirtxml.Caps{Host: libvirtxml.CapsHost{CPU: cpu("vmx")}, Guests: guests("qemu")}, "", "qemu", false},
		{"kvm guests for another arch only", libvirtxml.Caps{Host: libvirtxml.CapsHost{CPU: &libvirtxml.CapsHostCPU{Arch: "aarch64", FeatureFlags: []libvirtxml.CapsHostCPUFeatureFlag{{Name: "vmx"}}}}, Guests: guests("kvm")}, "", "qemu", false},
		{"no host cpu", libvirtxml.Caps{Guests: guests("kvm")}, "", "qemu", false},
		{"override qemu", libvirtxml.Caps{Host: libvirtxml.CapsHost{CPU: cpu("vmx")}, Guests: guests("kvm")}, "qemu", "qemu", false},
		{"override kvm", libvirtxml.Caps{}, "kvm", "kvm", false},
		{"bad override", libvirtxml.Caps{}, "xen", "", true},
	}
	for _, tt := range tests {
		got, err := chooseVirtType(&tt.caps, tt.override)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%s: chooseVirtType = %q, %v; want %q (error %v)", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPowerStateMapping(t *testing.T) {
	for st, want := range map[libvirt.DomainState]PowerState{
		libvirt.DOMAIN_NOSTATE: NoState, libvirt.DOMAIN_RUNNING: Running, libvirt.DOMAIN_BLOCKED: Running,
		libvirt.DOMAIN_PAUSED: Paused, libvirt.DOMAIN_SHUTDOWN: Shutdown, libvirt.DOMAIN_SHUTOFF: Shutdown,
		libvirt.DOMAIN_CRASHED: Crashed, libvirt.DOMAIN_PMSUSPENDED: Suspended,
	} {
		if got := powerState(st); got != want {
			t.Errorf("powerState(%d) = %v, want %v", st, got, want)
		}
	}
	events := []struct {
		e      libvirt.DomainEventLifecycle
		want   PowerState
		wantOK bool
	}{
		{libvirt.DomainEventLifecycle{Event: libvirt.DOMAIN_EVENT_STARTED}, Running, true},
		{libvirt.DomainEventLifecycle{Event: libvirt.DOMAIN_EVENT_RESUMED}, Running, true},
		{libvirt.DomainEventLifecycle{Event: libvirt.DOMAIN_EVENT_SUSPENDED}, Paused, true},
		{libvirt.DomainEventLifecycle{Event: libvirt.DOMAIN_EVENT_STOPPED, Detail: int(libvirt.DOMAIN_EVENT_STOPPED_SHUTDOWN)}, Shutdown, true},
		{libvirt.DomainEventLifecycle{Event: libvirt.DOMAIN_EVENT_STOPPED, Detail: int(libvirt.DOMAIN_EVENT_STOPPED_CRASHED)}, Crashed, true},
		{libvirt.DomainEventLifecycle{Event: libvirt.DOMAIN_EVENT_CRASHED}, Crashed, true},
		{libvirt.DomainEventLifecycle{Event: libvirt.DOMAIN_EVENT_PMSUSPENDED}, Suspended, true},
		{libvirt.DomainEventLifecycle{Event: libvirt.DOMAIN_EVENT_UNDEFINED}, NoState, true},
		{libvirt.DomainEventLifecycle{Event: libvirt.DOMAIN_EVENT_DEFINED}, NoState, false},
		{libvirt.DomainEventLifecycle{Event: libvirt.DOMAIN_EVENT_SHUTDOWN}, NoState, false},
	}
	for _, tt := range events {
		if got, ok := eventPowerState(&tt.e); got != tt.want || ok != tt.wantOK {
			t.Errorf("eventPowerState(%v) = %v, %v; want %v, %v", tt.e, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestCheckID(t *testing.T) {
	for id, ok := range map[string]bool{
		"0b7c3f2e-1111-4222-8333-444455556666": true, "srv_1": true, "a": true,
		"": false, "../etc": false, "a.b": false, "a/b": false, "-x": false, "a b": false, strings.Repeat("x", 129): false,
	} {
		if err := checkID("server", id); (err == nil) != ok {
			t.Errorf("checkID(%q) = %v, want ok=%v", id, err, ok)
		}
	}
}

func TestBuildDomain(t *testing.T) {
	s := spec("0b7c3f2e-1111-4222-8333-444455556666")
	p := domainParams{VirtType: "qemu", Arch: "x86_64", DiskPath: "/i/x.qcow2", ConfigPath: "/i/x.config.iso", ConsolePath: "/i/x.console.log"}
	d, err := buildDomain(s, p)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<domain type="qemu">`, `<name>stratus-0b7c3f2e-1111-4222-8333-444455556666</name>`,
		`<uuid>0b7c3f2e-1111-4222-8333-444455556666</uuid>`,
		`<stratus:instance xmlns:stratus="https://stratus-cloud.dev/xmlns/instance/1">`,
		`<stratus:flavor id="f1" name="m1.tiny"><stratus:vcpus>1</stratus:vcpus><stratus:ram>512</stratus:ram><stratus:disk>1</stratus:disk></stratus:flavor>`,
		`<stratus:image>img-cirros</stratus:image>`,
		`<type arch="x86_64">hvm</type>`, `<boot dev="hd"></boot>`, `<bios useserial="yes"></bios>`,
		`<memory unit="MiB">512</memory>`, `<vcpu placement="static">1</vcpu>`,
		`<source file="/i/x.qcow2"></source>`, `<target dev="vda" bus="virtio"></target>`,
		`<source file="/i/x.config.iso"></source>`, `<readonly></readonly>`,
		`<serial type="pty">`, `<log file="/i/x.console.log" append="on"></log>`,
		`<memballoon model="virtio">`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("domain XML lacks %s:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "<cpu") || strings.Contains(doc, "<interface") {
		t.Errorf("qemu domain with a <cpu> or <interface>:\n%s", doc)
	}
	// The metadata element reads back into the same Metadata.
	m, err := parseMetadata(d.Metadata.XML)
	if err != nil || m != s.metadata() {
		t.Fatalf("metadata round trip = %+v, %v; want %+v", m, err, s.metadata())
	}

	p.VirtType, p.ConfigPath = "kvm", ""
	s.ID = "not-a-uuid"
	d, err = buildDomain(s, p)
	if err != nil {
		t.Fatal(err)
	}
	if d.CPU == nil || d.CPU.Mode != "host-model" || d.UUID != "" || len(d.Devices.Disks) != 1 {
		t.Fatalf("kvm domain without config drive: cpu=%+v uuid=%q disks=%d", d.CPU, d.UUID, len(d.Devices.Disks))
	}
}

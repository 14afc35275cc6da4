package hypervisor

import (
	"regexp"
	"strings"
	"testing"
)

func TestDomainNICs(t *testing.T) {
	s := spec("0b7c3f2e-1111-4222-8333-444455556666")
	s.NICs = []NIC{
		{MAC: "fa:16:3e:00:00:01", Bridge: "brq11111111-22", Tap: "tapaaaaaaaa-bb", MTU: 1450},
		{MAC: "fa:16:3e:00:00:02", Bridge: "brq33333333-44", Tap: "tapcccccccc-dd"},
	}
	d, err := buildDomain(s, domainParams{VirtType: "qemu", Arch: "x86_64", DiskPath: "/i/x.qcow2", ConsolePath: "/i/x.log"})
	if err != nil {
		t.Fatal(err)
	}
	indented, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	doc := regexp.MustCompile(`>\s+<`).ReplaceAllString(indented, "><")
	first := `<interface type="bridge"><mac address="fa:16:3e:00:00:01"></mac><source bridge="brq11111111-22"></source>` +
		`<target dev="tapaaaaaaaa-bb"></target><model type="virtio"></model><mtu size="1450"></mtu></interface>`
	second := `<interface type="bridge"><mac address="fa:16:3e:00:00:02"></mac><source bridge="brq33333333-44"></source>` +
		`<target dev="tapcccccccc-dd"></target><model type="virtio"></model></interface>`
	if i, j := strings.Index(doc, first), strings.Index(doc, second); i < 0 || j < i {
		t.Fatalf("domain XML lacks the NICs in order:\n%s", doc)
	}
}

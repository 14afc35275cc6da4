// Package hypervisor owns every conversation Stratus has with its hosts: one
// libvirt connection per host URI, the per-host image cache, and the domains
// and volumes that make up a server. It is the only package that imports
// libvirt.org/go/libvirt and libvirt.org/go/libvirtxml, so the cgo binding,
// libvirt's error codes and its XML stay out of the compute service, which
// sees servers, power states and sentinel errors only.
//
// # Hosts and connections
//
// A Pool keeps one connection per URI (qemu:///system, qemu+ssh://…,
// qemu+tls://…, test:///…). Each Host has a goroutine that connects, and
// after a failure or a dropped connection reconnects with exponential
// backoff; meanwhile calls on that host fail at once with ErrHostDown and
// other hosts are not affected. libvirt's default event loop runs once per
// process: it carries keepalives, the connection-closed callback and the
// domain lifecycle events behind OnPowerChange.
//
// # What lives on a host
//
//   - Storage pool "stratus-images" (a dir pool, created when missing): one
//     volume "<image id>.<format>" per cached base image, uploaded once with
//     the stream API (virStorageVolUpload), which works the same for remote
//     hosts.
//   - Storage pool "stratus-instances": per server "<id>.qcow2" (an overlay
//     backed by the base image), "<id>.config.iso" (the config drive) and
//     "<id>.console.log" (the serial console log, written by virtlogd and
//     read back with virStorageVolDownload).
//   - Storage pool "stratus-volumes": block storage volumes
//     "volume-<id>.qcow2" and their snapshots "snapshot-<id>.qcow2"
//     (standalone copies), attached to domains as virtio disks whose serial
//     is the volume id (see volume.go).
//   - Domain "stratus-<id>" (UUID = server id when it is a UUID), defined
//     with libvirtxml, carrying a <metadata> element in MetadataNamespace.
//     Servers lists exactly the domains with that element.
//
// The domain type is "kvm" only when the host CPU advertises VMX or SVM and
// libvirt offers kvm guests; otherwise "qemu" (TCG). STRATUS_VIRT_TYPE=kvm|qemu
// overrides the choice.
//
// # libvirt's test driver
//
// test:///default and test:///<absolute path to a node XML> (see
// hypervisortest.WriteNode) run the same code. The test driver simulates
// domains, pools and volumes in memory but implements no volume upload,
// download or resize, and runs no guest. On such hosts (Host.Simulated) the
// package therefore, explicitly: skips image and config-drive uploads (the
// volumes are created with their declared sizes and stay empty), skips
// growing a disk in Resize, and fails ConsoleLog and SnapshotDisk with an
// error wrapping errors.ErrUnsupported. A test:///<file> host reports the
// node file's base name as its hostname, because the test driver reports
// the real machine's name for every simulated host.
package hypervisor

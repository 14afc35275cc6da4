package hypervisor

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"
)

// Block storage volumes live in the dir pool "stratus-volumes" of their
// host as qcow2 files: "volume-<id>.qcow2", and "snapshot-<id>.qcow2" for a
// snapshot, which is a full, standalone copy of the volume at that moment
// (not an internal qcow2 snapshot: a copy can outlive, and be cloned
// independently of, its volume, and deleting one never rewrites another).
// Volumes are host-local: a server can only attach a volume of its own host.

func blockVolume(id string) string    { return "volume-" + id + ".qcow2" }
func snapshotVolume(id string) string { return "snapshot-" + id + ".qcow2" }

// ErrVolumeInUse: the volume is attached to a domain on the host.
var ErrVolumeInUse = errors.New("hypervisor: volume is attached")

// VolumeSource says what a new volume is filled from; at most one field is
// set, none for a blank volume.
type VolumeSource struct {
	ImageID    string // a base image cached with EnsureImage
	VolumeID   string
	SnapshotID string
}

func (h *Host) volumesPool(s *session) (*libvirt.StoragePool, error) {
	return h.storagePool(s, h.cfg.VolumesPool, h.cfg.VolumesDir)
}

// CreateVolume makes volume id of sizeGiB, blank or copied from src. A
// volume left by an interrupted earlier attempt is deleted and made again,
// so the caller (a durable task) may simply retry. A source larger than
// sizeGiB is ErrInvalidState. On a test:// host the volume is created
// empty whatever the source: the test driver holds no content.
func (h *Host) CreateVolume(ctx context.Context, id string, sizeGiB int, src VolumeSource) error {
	if err := checkID("volume", id); err != nil {
		return err
	}
	if sizeGiB <= 0 {
		return fmt.Errorf("hypervisor: volume %s: invalid size %d GiB", id, sizeGiB)
	}
	defer h.lockServer("volume:" + id)()
	return h.do(ctx, func(s *session) error {
		pool, err := h.volumesPool(s)
		if err != nil {
			return err
		}
		name := blockVolume(id)
		if old, err := lookupVolume(pool, name); err != nil {
			return h.wrap("looking up volume "+name, err)
		} else if old != nil {
			err := old.Delete(0)
			_ = old.Free()
			if err != nil {
				return h.wrap("deleting the partial volume "+name, err)
			}
		}
		capacity := uint64(sizeGiB) << 30
		from, srcSize, err := h.volumeSource(s, pool, src)
		if err != nil {
			return err
		}
		var v *libvirt.StorageVol
		switch {
		case from == nil || h.simulated:
			if from != nil {
				_ = from.Free()
			}
			v, err = createVolume(pool, name, "qcow2", capacity, nil)
		case srcSize > capacity:
			_ = from.Free()
			return fmt.Errorf("%w: volume %s: the source is %d bytes, more than the %d GiB volume", ErrInvalidState, id, srcSize, sizeGiB)
		default:
			// qemu-img convert into a standalone qcow2 (no backing file),
			// grown afterwards if the source was smaller.
			var doc string
			if doc, err = volumeXML(name, "qcow2", capacity, nil); err == nil {
				v, err = pool.StorageVolCreateXMLFrom(doc, from, 0)
			}
			_ = from.Free()
			if err == nil {
				err = growVolume(v, capacity)
			}
		}
		if err != nil {
			if v != nil {
				_ = v.Delete(0)
				_ = v.Free()
			}
			return h.wrap("creating volume "+name, err)
		}
		return v.Free()
	})
}

// volumeSource looks up what src names and its virtual size; nil for a
// blank volume.
func (h *Host) volumeSource(s *session, pool *libvirt.StoragePool, src VolumeSource) (*libvirt.StorageVol, uint64, error) {
	var name string
	switch {
	case src.ImageID != "":
		images, err := h.storagePool(s, h.cfg.ImagesPool, h.cfg.ImagesDir)
		if err != nil {
			return nil, 0, err
		}
		v, _, vsize, err := h.baseImage(s, images, src.ImageID)
		return v, vsize, err
	case src.VolumeID != "":
		name = blockVolume(src.VolumeID)
	case src.SnapshotID != "":
		name = snapshotVolume(src.SnapshotID)
	default:
		return nil, 0, nil
	}
	v, err := lookupVolume(pool, name)
	if err == nil && v == nil {
		err = fmt.Errorf("%w: %s on %s", ErrNotFound, name, h.uri)
	}
	if err != nil {
		return nil, 0, h.wrap("source volume "+name, err)
	}
	info, err := v.GetInfo()
	if err != nil {
		_ = v.Free()
		return nil, 0, h.wrap("source volume "+name, err)
	}
	return v, info.Capacity, nil
}

// growVolume grows v to capacity bytes if it is smaller.
func growVolume(v *libvirt.StorageVol, capacity uint64) error {
	info, err := v.GetInfo()
	if err != nil || info.Capacity >= capacity {
		return err
	}
	return v.Resize(capacity, 0)
}

// DeleteVolume removes volume id's disk; a missing one is fine.
func (h *Host) DeleteVolume(ctx context.Context, id string) error {
	return h.deletePoolVolume(ctx, "volume", id, blockVolume(id))
}

// DeleteSnapshot removes snapshot id's copy; a missing one is fine.
func (h *Host) DeleteSnapshot(ctx context.Context, id string) error {
	return h.deletePoolVolume(ctx, "snapshot", id, snapshotVolume(id))
}

func (h *Host) deletePoolVolume(ctx context.Context, kind, id, name string) error {
	if err := checkID(kind, id); err != nil {
		return err
	}
	defer h.lockServer("volume:" + id)()
	return h.do(ctx, func(s *session) error {
		pool, err := h.volumesPool(s)
		if err != nil {
			return err
		}
		v, err := lookupVolume(pool, name)
		if err != nil || v == nil {
			return h.wrapIf("looking up "+name, err)
		}
		defer v.Free()
		if err := v.Delete(0); err != nil && !isCode(err, libvirt.ERR_NO_STORAGE_VOL) {
			return h.wrap("deleting "+name, err)
		}
		return nil
	})
}

func (h *Host) wrapIf(step string, err error) error {
	if err == nil {
		return nil
	}
	return h.wrap(step, err)
}

// SnapshotVolume copies volume volumeID into snapshot snapshotID (a
// standalone qcow2). The volume must not be written meanwhile: callers
// snapshot detached volumes only. A partial copy from an interrupted
// attempt is replaced.
func (h *Host) SnapshotVolume(ctx context.Context, volumeID, snapshotID string) error {
	if err := checkID("snapshot", snapshotID); err != nil {
		return err
	}
	if err := checkID("volume", volumeID); err != nil {
		return err
	}
	defer h.lockServer("volume:" + snapshotID)()
	return h.do(ctx, func(s *session) error {
		pool, err := h.volumesPool(s)
		if err != nil {
			return err
		}
		name := snapshotVolume(snapshotID)
		if old, err := lookupVolume(pool, name); err != nil {
			return h.wrap("looking up "+name, err)
		} else if old != nil {
			err := old.Delete(0)
			_ = old.Free()
			if err != nil {
				return h.wrap("deleting the partial snapshot "+name, err)
			}
		}
		from, size, err := h.volumeSource(s, pool, VolumeSource{VolumeID: volumeID})
		if err != nil {
			return err
		}
		defer from.Free()
		doc, err := volumeXML(name, "qcow2", size, nil)
		if err != nil {
			return err
		}
		v, err := pool.StorageVolCreateXMLFrom(doc, from, 0)
		if err != nil {
			return h.wrap("copying volume "+volumeID+" into "+name, err)
		}
		return v.Free()
	})
}

// ResizeVolume grows volume id to sizeGiB. Attached to a running server
// (serverID non-empty), it is grown online through QEMU (block_resize), so
// the guest sees the new size at once; otherwise the file is grown. On a
// test:// host nothing is done: the test driver cannot resize.
func (h *Host) ResizeVolume(ctx context.Context, id string, sizeGiB int, serverID string) error {
	if err := checkID("volume", id); err != nil {
		return err
	}
	if h.simulated {
		return nil
	}
	want := uint64(sizeGiB) << 30
	if serverID != "" {
		done := false
		err := h.withDomain(ctx, serverID, func(s *session, d *libvirt.Domain) error {
			active, err := d.IsActive()
			if err != nil || !active {
				return h.wrapIf("reading state of "+serverID, err)
			}
			dom, err := readDomainXML(d, 0)
			if err != nil {
				return h.wrap("reading definition of "+serverID, err)
			}
			disk := volumeDisk(dom, id)
			if disk == nil {
				return nil
			}
			if err := d.BlockResize(disk.Target.Dev, want, libvirt.DOMAIN_BLOCK_RESIZE_BYTES); err != nil {
				return h.wrap("growing volume "+id+" online", err)
			}
			done = true
			return nil
		})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if done {
			return nil
		}
	}
	defer h.lockServer("volume:" + id)()
	return h.do(ctx, func(s *session) error {
		pool, err := h.volumesPool(s)
		if err != nil {
			return err
		}
		v, err := lookupVolume(pool, blockVolume(id))
		if err == nil && v == nil {
			err = fmt.Errorf("%w: volume %s on %s", ErrNotFound, id, h.uri)
		}
		if err != nil {
			return h.wrap("volume "+id, err)
		}
		defer v.Free()
		return h.wrapIf("growing volume "+id, growVolume(v, want))
	})
}

func readDomainXML(d *libvirt.Domain, flags libvirt.DomainXMLFlags) (*libvirtxml.Domain, error) {
	doc, err := d.GetXMLDesc(flags)
	if err != nil {
		return nil, err
	}
	var dom libvirtxml.Domain
	return &dom, dom.Unmarshal(doc)
}

// volumeDisk finds the disk whose serial is the volume id.
func volumeDisk(dom *libvirtxml.Domain, volumeID string) *libvirtxml.DomainDisk {
	if dom.Devices == nil {
		return nil
	}
	for i := range dom.Devices.Disks {
		if d := &dom.Devices.Disks[i]; d.Serial == volumeID && d.Target != nil {
			return d
		}
	}
	return nil
}

// targetUsed reports whether a disk of any of doms uses target.
func targetUsed(target string, doms ...*libvirtxml.Domain) bool {
	for _, dom := range doms {
		if dom == nil || dom.Devices == nil {
			continue
		}
		for _, d := range dom.Devices.Disks {
			if d.Target != nil && d.Target.Dev == target {
				return true
			}
		}
	}
	return false
}

// AttachVolume plugs volume volumeID into server serverID as a virtio disk
// whose serial is the volume id (the guest sees
// /dev/disk/by-id/virtio-<first 20 characters>), into the running domain
// and its persistent definition, at device (as "/dev/vdc"), which the
// caller chose. An attachment already there is left as it is, so a retry
// is harmless.
// On a test:// host, which cannot hot-plug, only the persistent definition
// changes.
func (h *Host) AttachVolume(ctx context.Context, serverID, volumeID, device string) error {
	if err := checkID("volume", volumeID); err != nil {
		return err
	}
	target := strings.TrimPrefix(device, "/dev/")
	if !targetPattern.MatchString(target) {
		return fmt.Errorf("hypervisor: invalid disk device %q", device)
	}
	return h.withDomain(ctx, serverID, func(s *session, d *libvirt.Domain) error {
		pool, err := h.volumesPool(s)
		if err != nil {
			return err
		}
		v, err := lookupVolume(pool, blockVolume(volumeID))
		if err == nil && v == nil {
			err = fmt.Errorf("%w: volume %s on %s", ErrNotFound, volumeID, h.uri)
		}
		if err != nil {
			return h.wrap("volume "+volumeID, err)
		}
		path, err := v.GetPath()
		_ = v.Free()
		if err != nil {
			return h.wrap("volume "+volumeID, err)
		}
		live, err := readDomainXML(d, 0)
		if err != nil {
			return h.wrap("reading definition of "+serverID, err)
		}
		persistent, err := readDomainXML(d, libvirt.DOMAIN_XML_INACTIVE)
		if err != nil {
			return h.wrap("reading definition of "+serverID, err)
		}
		if volumeDisk(live, volumeID) != nil || volumeDisk(persistent, volumeID) != nil {
			return nil
		}
		if targetUsed(target, live, persistent) {
			return fmt.Errorf("%w: server %s already has a disk %s", ErrInvalidState, serverID, device)
		}
		disk := fileDisk(path, "qcow2", target, false)
		disk.Serial = volumeID
		if h.simulated {
			persistent.Devices.Disks = append(persistent.Devices.Disks, disk)
			if err := h.redefine(s, persistent); err != nil {
				return h.wrap("attaching volume "+volumeID, err)
			}
		} else {
			doc, err := disk.Marshal()
			if err != nil {
				return err
			}
			if err := d.AttachDeviceFlags(doc, deviceFlags(d)); err != nil {
				return h.wrap("attaching volume "+volumeID+" to "+serverID, err)
			}
		}
		return nil
	})
}

var targetPattern = regexp.MustCompile(`^vd[c-z]$`)

// deviceFlags changes the running domain and its persistent definition, or
// only the latter when the domain is off.
func deviceFlags(d *libvirt.Domain) libvirt.DomainDeviceModifyFlags {
	if active, err := d.IsActive(); err == nil && active {
		return libvirt.DOMAIN_DEVICE_MODIFY_LIVE | libvirt.DOMAIN_DEVICE_MODIFY_CONFIG
	}
	return libvirt.DOMAIN_DEVICE_MODIFY_CONFIG
}

func (h *Host) redefine(s *session, dom *libvirtxml.Domain) error {
	doc, err := dom.Marshal()
	if err != nil {
		return err
	}
	nd, err := s.conn.DomainDefineXML(doc)
	if err != nil {
		return err
	}
	return nd.Free()
}

// DetachVolume unplugs volume volumeID from server serverID, live and from
// the persistent definition, and waits (bounded by ctx and a minute) for
// the guest to release it. A volume not attached, or a server that is
// gone, is fine.
func (h *Host) DetachVolume(ctx context.Context, serverID, volumeID string) error {
	err := h.withDomain(ctx, serverID, func(s *session, d *libvirt.Domain) error {
		persistent, err := readDomainXML(d, libvirt.DOMAIN_XML_INACTIVE)
		if err != nil {
			return h.wrap("reading definition of "+serverID, err)
		}
		if h.simulated {
			if disk := volumeDisk(persistent, volumeID); disk != nil {
				persistent.Devices.Disks = slices.DeleteFunc(persistent.Devices.Disks, func(d libvirtxml.DomainDisk) bool { return d.Serial == volumeID })
				return h.wrapIf("detaching volume "+volumeID, h.redefine(s, persistent))
			}
			return nil
		}
		if disk := volumeDisk(persistent, volumeID); disk != nil {
			doc, err := disk.Marshal()
			if err != nil {
				return err
			}
			if err := d.DetachDeviceFlags(doc, libvirt.DOMAIN_DEVICE_MODIFY_CONFIG); err != nil && !isCode(err, libvirt.ERR_DEVICE_MISSING) {
				return h.wrap("detaching volume "+volumeID+" from the definition of "+serverID, err)
			}
		}
		return h.detachLive(ctx, d, serverID, volumeID)
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// detachLive asks the running guest to release the disk and waits until
// QEMU has removed it. The request is repeated now and then: a guest that
// was still booting may have missed the first.
func (h *Host) detachLive(ctx context.Context, d *libvirt.Domain, serverID, volumeID string) error {
	deadline := time.Now().Add(time.Minute)
	var asked time.Time
	for {
		if active, err := d.IsActive(); err != nil || !active {
			return h.wrapIf("reading state of "+serverID, err)
		}
		live, err := readDomainXML(d, 0)
		if err != nil {
			return h.wrap("reading definition of "+serverID, err)
		}
		disk := volumeDisk(live, volumeID)
		if disk == nil {
			return nil
		}
		if time.Since(asked) > 10*time.Second {
			doc, err := disk.Marshal()
			if err != nil {
				return err
			}
			if err := d.DetachDeviceFlags(doc, libvirt.DOMAIN_DEVICE_MODIFY_LIVE); err != nil &&
				!isCode(err, libvirt.ERR_DEVICE_MISSING, libvirt.ERR_OPERATION_INVALID) {
				return h.wrap("detaching volume "+volumeID+" from "+serverID, err)
			}
			asked = time.Now()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: the guest of %s did not release volume %s", ErrVolumeInUse, serverID, volumeID)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// bootVolumePath is the path of a volume a server boots from.
func (h *Host) bootVolumePath(s *session, volumeID string) (string, error) {
	pool, err := h.volumesPool(s)
	if err != nil {
		return "", err
	}
	v, err := lookupVolume(pool, blockVolume(volumeID))
	if err == nil && v == nil {
		err = fmt.Errorf("%w: boot volume %s on %s", ErrNotFound, volumeID, h.uri)
	}
	if err != nil {
		return "", h.wrap("boot volume "+volumeID, err)
	}
	defer v.Free()
	path, err := v.GetPath()
	return path, h.wrapIf("boot volume "+volumeID, err)
}

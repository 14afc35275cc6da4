package hypervisor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"
)

// ServerSpec describes a server to create on a host.
type ServerSpec struct {
	Cloud                                                      string // the owning deployment, recorded in the metadata
	ID, Name, ProjectID, UserID, FlavorID, FlavorName, ImageID string
	VCPUs                                                      int
	MemoryMiB                                                  int64
	DiskGiB                                                    int // 0: the image's virtual size
	ConfigDrive                                                []byte
	// BootVolumeID boots from this block storage volume (see volume.go)
	// instead of an overlay of ImageID, which is then empty.
	BootVolumeID string
	NICs         []NIC // in guest order
}

func (s ServerSpec) validate() error {
	if err := checkID("server", s.ID); err != nil {
		return err
	}
	if s.BootVolumeID != "" {
		if err := checkID("volume", s.BootVolumeID); err != nil {
			return err
		}
	} else if err := checkID("image", s.ImageID); err != nil {
		return err
	}
	if s.VCPUs <= 0 || s.MemoryMiB <= 0 || s.DiskGiB < 0 {
		return fmt.Errorf("hypervisor: server %s: invalid size (%d vCPUs, %d MiB, %d GiB)", s.ID, s.VCPUs, s.MemoryMiB, s.DiskGiB)
	}
	return nil
}

func (s ServerSpec) metadata() Metadata {
	return Metadata{
		Cloud: s.Cloud, ID: s.ID, Name: s.Name, ProjectID: s.ProjectID, UserID: s.UserID, ImageID: s.ImageID,
		Flavor: Flavor{ID: s.FlavorID, Name: s.FlavorName, VCPUs: s.VCPUs, MemoryMiB: s.MemoryMiB, DiskGiB: s.DiskGiB},
	}
}

// ServerState is one of our domains as the host sees it.
type ServerState struct {
	ID         string
	PowerState PowerState
	Metadata   Metadata
}

// lookupDomain returns the server's domain, or nil when there is none.
func lookupDomain(s *session, id string) (*libvirt.Domain, error) {
	d, err := s.conn.LookupDomainByName(domainName(id))
	if isCode(err, libvirt.ERR_NO_DOMAIN) {
		return nil, nil
	}
	return d, err
}

// withDomain runs fn on the server's domain under the server's lock;
// ErrNotFound when there is none.
func (h *Host) withDomain(ctx context.Context, id string, fn func(s *session, d *libvirt.Domain) error) error {
	if err := checkID("server", id); err != nil {
		return err
	}
	defer h.lockServer(id)()
	return h.do(ctx, func(s *session) error {
		d, err := lookupDomain(s, id)
		if err != nil {
			return h.wrap("looking up server "+id, err)
		}
		if d == nil {
			return fmt.Errorf("%w: %s on %s", ErrNotFound, id, h.uri)
		}
		defer d.Free()
		return fn(s, d)
	})
}

// CreateServer builds the server's volumes, defines its domain and starts
// it. It is idempotent by spec.ID: each step reuses what an earlier,
// interrupted attempt left, so a retry after a crash finishes the job. The
// base image must have been cached with EnsureImage.
func (h *Host) CreateServer(ctx context.Context, spec ServerSpec) error {
	if err := spec.validate(); err != nil {
		return err
	}
	defer h.lockServer(spec.ID)()
	return h.do(ctx, func(s *session) error {
		d, err := lookupDomain(s, spec.ID)
		if err != nil {
			return h.wrap("looking up server "+spec.ID, err)
		}
		if d != nil {
			defer d.Free()
			return h.startDomain(d, spec.ID)
		}
		// The domain is defined last, so its absence means the volumes
		// may be missing or partial.
		t0 := time.Now()
		p, err := h.prepareVolumes(ctx, s, spec)
		if err != nil {
			return err
		}
		dom, err := buildDomain(spec, p)
		if err != nil {
			return err
		}
		doc, err := dom.Marshal()
		if err != nil {
			return err
		}
		t1 := time.Now()
		if d, err = s.conn.DomainDefineXML(doc); err != nil {
			return h.wrap("defining server "+spec.ID, err)
		}
		defer d.Free()
		t2 := time.Now()
		if err := h.startDomain(d, spec.ID); err != nil {
			return err
		}
		h.log.Debug("server created", "server", spec.ID, "volumes", t1.Sub(t0), "define", t2.Sub(t1), "start", time.Since(t2))
		return nil
	})
}

// prepareVolumes creates (or finds) the server's disk overlay, config drive
// and console log volumes and returns their paths.
func (h *Host) prepareVolumes(ctx context.Context, s *session, spec ServerSpec) (domainParams, error) {
	p := domainParams{VirtType: s.virtType, Arch: s.arch}
	images, err := h.storagePool(s, h.cfg.ImagesPool, h.cfg.ImagesDir)
	if err != nil {
		return p, err
	}
	inst, err := h.storagePool(s, h.cfg.InstancesPool, h.cfg.InstancesDir)
	if err != nil {
		return p, err
	}
	if spec.BootVolumeID != "" {
		if p.DiskPath, err = h.bootVolumePath(s, spec.BootVolumeID); err != nil {
			return p, err
		}
		p.DiskSerial = spec.BootVolumeID
	} else if p.DiskPath, err = h.ensureDisk(s, images, inst, spec); err != nil {
		return p, err
	}
	if len(spec.ConfigDrive) > 0 {
		if p.ConfigPath, err = h.ensureConfigDrive(ctx, s, inst, spec.ID, spec.ConfigDrive); err != nil {
			return p, err
		}
	}
	// An empty volume for virtlogd to append the console to, so the log is
	// a volume libvirt knows (ConsoleLog downloads it; Delete removes it).
	if p.ConsolePath, err = h.ensureVolume(inst, consoleVolume(spec.ID), func() (*libvirt.StorageVol, error) {
		return createVolume(inst, consoleVolume(spec.ID), "raw", 0, nil)
	}); err != nil {
		return p, err
	}
	return p, nil
}

// ensureDisk creates (or finds) the server's disk: a qcow2 overlay over
// the cached base image.
func (h *Host) ensureDisk(s *session, images, inst *libvirt.StoragePool, spec ServerSpec) (string, error) {
	base, format, vsize, err := h.baseImage(s, images, spec.ImageID)
	if err != nil {
		return "", err
	}
	defer base.Free()
	capacity := uint64(spec.DiskGiB) << 30
	switch {
	case spec.DiskGiB == 0:
		capacity = vsize
	case capacity < vsize:
		return "", fmt.Errorf("hypervisor: server %s: disk of %d GiB is smaller than image %s (%d bytes)", spec.ID, spec.DiskGiB, spec.ImageID, vsize)
	}
	basePath, err := base.GetPath()
	if err != nil {
		return "", h.wrap("image volume path", err)
	}
	// The overlay records the base's format explicitly, so QEMU never
	// probes it from the content.
	backing := &libvirtxml.StorageVolumeBackingStore{Path: basePath, Format: &libvirtxml.StorageVolumeTargetFormat{Type: format}}
	return h.ensureVolume(inst, diskVolume(spec.ID), func() (*libvirt.StorageVol, error) {
		return createVolume(inst, diskVolume(spec.ID), "qcow2", capacity, backing)
	})
}

// ensureVolume returns the path of the named volume, creating it when
// missing.
func (h *Host) ensureVolume(pool *libvirt.StoragePool, name string, create func() (*libvirt.StorageVol, error)) (string, error) {
	v, err := lookupVolume(pool, name)
	if err == nil && v == nil {
		v, err = create()
	}
	if err != nil {
		return "", h.wrap("volume "+name, err)
	}
	defer v.Free()
	path, err := v.GetPath()
	if err != nil {
		return "", h.wrap("volume "+name, err)
	}
	return path, nil
}

// ensureConfigDrive uploads the config drive unless a complete copy is
// there already.
func (h *Host) ensureConfigDrive(ctx context.Context, s *session, pool *libvirt.StoragePool, id string, data []byte) (string, error) {
	name := configVolume(id)
	v, err := lookupVolume(pool, name)
	if err != nil {
		return "", h.wrap("volume "+name, err)
	}
	if v != nil && !h.simulated {
		if have, err := fileSize(v); err != nil || have != uint64(len(data)) {
			// Interrupted upload: start over.
			_ = v.Delete(0)
			_ = v.Free()
			v = nil
		}
	}
	if v == nil {
		if h.simulated {
			// No virStorageVolUpload on the test driver: the volume has
			// the drive's size and no content.
			v, err = createVolume(pool, name, "raw", uint64(len(data)), nil)
		} else if v, err = createVolume(pool, name, "raw", 0, nil); err == nil {
			if err = h.uploadVolume(ctx, s, v, bytes.NewReader(data), uint64(len(data))); err != nil {
				_ = v.Delete(0)
				_ = v.Free()
			}
		}
		if err != nil {
			return "", h.wrap("config drive "+name, err)
		}
	}
	defer v.Free()
	path, err := v.GetPath()
	if err != nil {
		return "", h.wrap("volume "+name, err)
	}
	return path, nil
}

// startDomain starts a defined domain; a running one is left alone.
func (h *Host) startDomain(d *libvirt.Domain, id string) error {
	active, err := d.IsActive()
	if err == nil && !active {
		err = d.Create()
		if isCode(err, libvirt.ERR_OPERATION_INVALID) {
			if again, aerr := d.IsActive(); aerr == nil && again {
				err = nil // started meanwhile by someone else
			}
		}
	}
	if err != nil {
		return h.wrap("starting server "+id, err)
	}
	return nil
}

// Start powers a server on; a running server is left alone.
func (h *Host) Start(ctx context.Context, id string) error {
	return h.withDomain(ctx, id, func(s *session, d *libvirt.Domain) error {
		return h.startDomain(d, id)
	})
}

// Stop powers a server off. graceful presses the ACPI power button and
// waits up to Config.ShutdownTimeout (or ctx) for the guest to power off
// before destroying it; otherwise it is destroyed at once. A stopped server
// is left alone.
func (h *Host) Stop(ctx context.Context, id string, graceful bool) error {
	return h.withDomain(ctx, id, func(s *session, d *libvirt.Domain) error {
		active, err := d.IsActive()
		if err != nil {
			return h.wrap("reading state of "+id, err)
		}
		if !active {
			return nil
		}
		if graceful {
			if err := d.Shutdown(); err != nil && !isCode(err, libvirt.ERR_OPERATION_INVALID) {
				return h.wrap("shutting down "+id, err)
			}
			off, err := waitInactive(ctx, d, h.cfg.ShutdownTimeout)
			if err != nil {
				return h.wrap("waiting for "+id+" to shut down", err)
			}
			if off {
				return nil
			}
			h.log.Info("guest ignored ACPI shutdown; destroying", "server", id, "timeout", h.cfg.ShutdownTimeout)
		}
		if err := d.Destroy(); err != nil && !isCode(err, libvirt.ERR_OPERATION_INVALID) {
			return h.wrap("destroying "+id, err)
		}
		return nil
	})
}

// waitInactive polls until d is off (true), timeout passes (false) or ctx
// ends (its error).
func waitInactive(ctx context.Context, d *libvirt.Domain, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		active, err := d.IsActive()
		if err != nil || !active {
			return err == nil, err
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-tick.C:
		}
	}
}

// Reboot restarts a server. A soft reboot asks the guest (ACPI, or the
// guest agent) and needs a running server; a hard one kills the QEMU
// process and starts a fresh one, and also starts a stopped server, as
// Nova's does.
func (h *Host) Reboot(ctx context.Context, id string, hard bool) error {
	return h.withDomain(ctx, id, func(s *session, d *libvirt.Domain) error {
		active, err := d.IsActive()
		if err != nil {
			return h.wrap("reading state of "+id, err)
		}
		if !hard {
			if !active {
				return fmt.Errorf("%w: soft reboot of stopped server %s", ErrInvalidState, id)
			}
			if err := d.Reboot(libvirt.DOMAIN_REBOOT_DEFAULT); err != nil {
				return h.wrap("rebooting "+id, err)
			}
			return nil
		}
		if active {
			if err := d.Destroy(); err != nil && !isCode(err, libvirt.ERR_OPERATION_INVALID) {
				return h.wrap("destroying "+id, err)
			}
		}
		return h.startDomain(d, id)
	})
}

// Resize changes a stopped server's size: the domain is redefined with the
// new vCPUs and memory and its disk grown to diskGiB (0 or the current size
// keep it; disks never shrink). The flavor id and name in the domain
// metadata are kept; ResizeFlavor replaces them too.
func (h *Host) Resize(ctx context.Context, id string, vcpus int, memoryMiB int64, diskGiB int) error {
	return h.resize(ctx, id, func(f *Flavor) {
		f.VCPUs, f.MemoryMiB = vcpus, memoryMiB
		if diskGiB > 0 {
			f.DiskGiB = diskGiB
		}
	})
}

// ResizeFlavor is Resize to flavor f, recording f's id and name in the
// domain metadata, where metering reads them.
func (h *Host) ResizeFlavor(ctx context.Context, id string, f Flavor) error {
	return h.resize(ctx, id, func(cur *Flavor) {
		disk := cur.DiskGiB
		*cur = f
		if f.DiskGiB == 0 {
			cur.DiskGiB = disk
		}
	})
}

func (h *Host) resize(ctx context.Context, id string, change func(*Flavor)) error {
	return h.withDomain(ctx, id, func(s *session, d *libvirt.Domain) error {
		active, err := d.IsActive()
		if err != nil {
			return h.wrap("reading state of "+id, err)
		}
		if active {
			return fmt.Errorf("%w: resize of running server %s (stop it first)", ErrInvalidState, id)
		}
		raw, err := d.GetMetadata(libvirt.DOMAIN_METADATA_ELEMENT, MetadataNamespace, libvirt.DOMAIN_AFFECT_CONFIG)
		if err != nil {
			return h.wrap("reading metadata of "+id, err)
		}
		meta, err := parseMetadata(raw)
		if err != nil {
			return err
		}
		oldDisk := meta.Flavor.DiskGiB
		change(&meta.Flavor)
		if meta.Flavor.VCPUs <= 0 || meta.Flavor.MemoryMiB <= 0 {
			return fmt.Errorf("hypervisor: resize %s: invalid size (%d vCPUs, %d MiB)", id, meta.Flavor.VCPUs, meta.Flavor.MemoryMiB)
		}
		if meta.Flavor.DiskGiB < oldDisk {
			return fmt.Errorf("%w: disk of %s is %d GiB; it cannot shrink to %d GiB", ErrInvalidState, id, oldDisk, meta.Flavor.DiskGiB)
		}
		// A server booted from a volume has no local disk to grow.
		if meta.ImageID != "" {
			if err := h.growDisk(s, id, meta.Flavor.DiskGiB); err != nil {
				return err
			}
		}
		doc, err := d.GetXMLDesc(libvirt.DOMAIN_XML_INACTIVE)
		if err != nil {
			return h.wrap("reading definition of "+id, err)
		}
		var dom libvirtxml.Domain
		if err := dom.Unmarshal(doc); err != nil {
			return h.wrap("parsing definition of "+id, err)
		}
		dom.VCPU = &libvirtxml.DomainVCPU{Placement: "static", Value: uint(meta.Flavor.VCPUs)}
		dom.Memory = &libvirtxml.DomainMemory{Value: uint(meta.Flavor.MemoryMiB), Unit: "MiB"}
		dom.CurrentMemory = &libvirtxml.DomainCurrentMemory{Value: uint(meta.Flavor.MemoryMiB), Unit: "MiB"}
		// <metadata> holds our element only, so it is rewritten whole.
		metaXML, err := meta.marshal()
		if err != nil {
			return err
		}
		dom.Metadata = &libvirtxml.DomainMetadata{XML: metaXML}
		if doc, err = dom.Marshal(); err != nil {
			return err
		}
		nd, err := s.conn.DomainDefineXML(doc)
		if err != nil {
			return h.wrap("redefining "+id, err)
		}
		return nd.Free()
	})
}

// growDisk grows the server's disk to diskGiB; a retry after a crash finds
// it grown already.
func (h *Host) growDisk(s *session, id string, diskGiB int) error {
	inst, err := h.storagePool(s, h.cfg.InstancesPool, h.cfg.InstancesDir)
	if err != nil {
		return err
	}
	v, err := lookupVolume(inst, diskVolume(id))
	if err == nil && v == nil {
		err = fmt.Errorf("volume %s is missing", diskVolume(id))
	}
	if err != nil {
		return h.wrap("disk of "+id, err)
	}
	defer v.Free()
	info, err := v.GetInfo()
	if err != nil {
		return h.wrap("disk of "+id, err)
	}
	want := uint64(diskGiB) << 30
	switch {
	case want < info.Capacity:
		return fmt.Errorf("%w: disk of %s is %d bytes; it cannot shrink to %d GiB", ErrInvalidState, id, info.Capacity, diskGiB)
	case want == info.Capacity:
		return nil
	case h.simulated:
		// The test driver has no virStorageVolResize; the new size is
		// recorded in the metadata only.
		return nil
	}
	if err := v.Resize(want, 0); err != nil {
		return h.wrap("growing disk of "+id, err)
	}
	return nil
}

// Delete destroys and undefines the server and deletes its volumes
// ("<id>.*" in the instance pool). Missing pieces are fine: it is
// idempotent.
func (h *Host) Delete(ctx context.Context, id string) error {
	if err := checkID("server", id); err != nil {
		return err
	}
	defer h.lockServer(id)()
	return h.do(ctx, func(s *session) error {
		d, err := lookupDomain(s, id)
		if err != nil {
			return h.wrap("looking up server "+id, err)
		}
		if d != nil {
			defer d.Free()
			if err := d.Destroy(); err != nil && !isCode(err, libvirt.ERR_OPERATION_INVALID, libvirt.ERR_NO_DOMAIN) {
				return h.wrap("destroying "+id, err)
			}
			if err := d.UndefineFlags(libvirt.DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.DOMAIN_UNDEFINE_SNAPSHOTS_METADATA); err != nil && !isCode(err, libvirt.ERR_NO_DOMAIN) {
				return h.wrap("undefining "+id, err)
			}
		}
		inst, err := h.storagePool(s, h.cfg.InstancesPool, h.cfg.InstancesDir)
		if err != nil {
			return err
		}
		// A refresh picks up files libvirt did not create (virtlogd's
		// rotated console logs). It fails while another volume of the pool
		// is being built or uploaded; the volumes Stratus created are
		// listed without it, so that is only worth a note.
		if err := inst.Refresh(0); err != nil {
			h.log.Debug("instance pool refresh skipped", "err", err)
		}
		vols, err := inst.ListAllStorageVolumes(0)
		if err != nil {
			return h.wrap("listing volumes", err)
		}
		var firstErr error
		for i := range vols {
			v := &vols[i]
			name, err := v.GetName()
			if err == nil && strings.HasPrefix(name, volumePrefix(id)) {
				if err := v.Delete(0); err != nil && !isCode(err, libvirt.ERR_NO_STORAGE_VOL) && firstErr == nil {
					firstErr = h.wrap("deleting volume "+name, err)
				}
			}
			_ = v.Free()
		}
		return firstErr
	})
}

// PowerState returns the server's power state; ErrNotFound when the host
// has no such domain.
func (h *Host) PowerState(ctx context.Context, id string) (PowerState, error) {
	var ps PowerState
	err := h.withDomain(ctx, id, func(s *session, d *libvirt.Domain) error {
		st, _, err := d.GetState()
		if err != nil {
			return h.wrap("reading state of "+id, err)
		}
		ps = powerState(st)
		return nil
	})
	return ps, err
}

// Servers lists every domain on the host that carries Stratus metadata,
// with its power state: what the reconciler compares with the database to
// find orphans and drift.
func (h *Host) Servers(ctx context.Context) ([]ServerState, error) {
	var out []ServerState
	err := h.do(ctx, func(s *session) error {
		doms, err := s.conn.ListAllDomains(0)
		if err != nil {
			return h.wrap("listing domains", err)
		}
		defer func() {
			for i := range doms {
				_ = doms[i].Free()
			}
		}()
		for i := range doms {
			d := &doms[i]
			raw, err := d.GetMetadata(libvirt.DOMAIN_METADATA_ELEMENT, MetadataNamespace, libvirt.DOMAIN_AFFECT_CURRENT)
			if isCode(err, libvirt.ERR_NO_DOMAIN_METADATA, libvirt.ERR_NO_DOMAIN) {
				continue // not ours, or deleted meanwhile
			}
			if err != nil {
				return h.wrap("reading domain metadata", err)
			}
			meta, err := parseMetadata(raw)
			if err != nil {
				return err
			}
			st, _, err := d.GetState()
			if isCode(err, libvirt.ERR_NO_DOMAIN) {
				continue
			}
			if err != nil {
				return h.wrap("reading state of "+meta.ID, err)
			}
			out = append(out, ServerState{ID: meta.ID, PowerState: powerState(st), Metadata: meta})
		}
		return nil
	})
	return out, err
}

// unsupported is the error of an operation the test driver cannot do.
func (h *Host) unsupported(op string) error {
	return fmt.Errorf("hypervisor %s: %s: libvirt's test driver runs no guest and has no volume download: %w", h.uri, op, errors.ErrUnsupported)
}

// ConsoleLog returns the last maxBytes (all when maxBytes <= 0) of the
// server's serial console log, downloaded from the instance pool. Not on
// test:// hosts (errors.ErrUnsupported).
func (h *Host) ConsoleLog(ctx context.Context, id string, maxBytes int) ([]byte, error) {
	if err := checkID("server", id); err != nil {
		return nil, err
	}
	if h.simulated {
		return nil, h.unsupported("console log")
	}
	var out []byte
	err := h.do(ctx, func(s *session) error {
		inst, err := h.storagePool(s, h.cfg.InstancesPool, h.cfg.InstancesDir)
		if err != nil {
			return err
		}
		v, err := lookupVolume(inst, consoleVolume(id))
		if err != nil {
			return h.wrap("console log of "+id, err)
		}
		if v == nil {
			d, err := lookupDomain(s, id)
			if err != nil {
				return h.wrap("looking up server "+id, err)
			}
			if d == nil {
				return fmt.Errorf("%w: %s on %s", ErrNotFound, id, h.uri)
			}
			_ = d.Free()
			out = []byte{} // the log file was removed on the host: nothing to show
			return nil
		}
		defer v.Free()
		size, err := fileSize(v)
		if err != nil {
			return h.wrap("console log of "+id, err)
		}
		var off uint64
		if maxBytes > 0 && size > uint64(maxBytes) {
			off = size - uint64(maxBytes)
		}
		if size == off {
			out = []byte{}
			return nil
		}
		r, err := downloadVolume(s, v, off, size-off)
		if err != nil {
			return h.wrap("downloading console log of "+id, err)
		}
		out, err = io.ReadAll(r)
		if cerr := r.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return h.wrap("downloading console log of "+id, err)
		}
		return nil
	})
	return out, err
}

// SnapshotDisk returns a standalone qcow2 of the server's disk (the backing
// image flattened in) and its size in bytes, streamed from the host. A
// running or paused server is copied live with a block copy job
// (crash-consistent, as Nova's live snapshot without a guest agent); a
// stopped one with qemu-img convert (virStorageVolCreateXMLFrom). The copy
// is a temporary volume "<id>.snapshot-<n>.qcow2", deleted when the reader
// is closed; the caller must Close it. Not on test:// hosts
// (errors.ErrUnsupported).
func (h *Host) SnapshotDisk(ctx context.Context, id string) (io.ReadCloser, int64, error) {
	if err := checkID("server", id); err != nil {
		return nil, 0, err
	}
	if h.simulated {
		return nil, 0, h.unsupported("disk snapshot")
	}
	s, err := h.acquire(ctx)
	if err != nil {
		return nil, 0, err
	}
	r, size, err := h.snapshotDisk(ctx, s, id)
	if err != nil {
		h.checkConn(s, err)
		s.inflight.Done()
		return nil, 0, err
	}
	return r, size, nil
}

func (h *Host) snapshotDisk(ctx context.Context, s *session, id string) (*volumeReader, int64, error) {
	unlock := h.lockServer(id)
	copyVol, err := h.copyDisk(ctx, s, id)
	unlock()
	if err != nil {
		return nil, 0, err
	}
	discard := func() {
		if err := copyVol.Delete(0); err != nil {
			h.log.Warn("deleting snapshot copy", "server", id, "err", err)
		}
		_ = copyVol.Free()
	}
	size, err := fileSize(copyVol)
	if err != nil {
		discard()
		return nil, 0, h.wrap("sizing snapshot of "+id, err)
	}
	r, err := downloadVolume(s, copyVol, 0, 0)
	if err != nil {
		discard()
		return nil, 0, h.wrap("downloading snapshot of "+id, err)
	}
	r.onClose = func() {
		discard()
		s.inflight.Done()
	}
	return r, int64(size), nil
}

// copyDisk makes the flattened copy of the server's disk in the instance
// pool.
func (h *Host) copyDisk(ctx context.Context, s *session, id string) (*libvirt.StorageVol, error) {
	d, err := lookupDomain(s, id)
	if err != nil {
		return nil, h.wrap("looking up server "+id, err)
	}
	if d == nil {
		return nil, fmt.Errorf("%w: %s on %s", ErrNotFound, id, h.uri)
	}
	defer d.Free()
	inst, err := h.storagePool(s, h.cfg.InstancesPool, h.cfg.InstancesDir)
	if err != nil {
		return nil, err
	}
	disk, err := lookupVolume(inst, diskVolume(id))
	if err == nil && disk == nil {
		err = fmt.Errorf("volume %s is missing", diskVolume(id))
	}
	if err != nil {
		return nil, h.wrap("disk of "+id, err)
	}
	defer disk.Free()
	info, err := disk.GetInfo()
	if err != nil {
		return nil, h.wrap("disk of "+id, err)
	}
	active, err := d.IsActive()
	if err != nil {
		return nil, h.wrap("reading state of "+id, err)
	}
	name := fmt.Sprintf("%s.snapshot-%d.qcow2", id, time.Now().UnixNano())
	if !active {
		doc, err := volumeXML(name, "qcow2", info.Capacity, nil)
		if err != nil {
			return nil, err
		}
		v, err := inst.StorageVolCreateXMLFrom(doc, disk, 0)
		if err != nil {
			return nil, h.wrap("copying disk of "+id, err)
		}
		return v, nil
	}
	v, err := createVolume(inst, name, "qcow2", info.Capacity, nil)
	if err != nil {
		return nil, h.wrap("creating snapshot volume for "+id, err)
	}
	if err := h.blockCopy(ctx, d, rootDisk, v); err != nil {
		_ = v.Delete(0)
		_ = v.Free()
		return nil, h.wrap("copying disk of running server "+id, err)
	}
	return v, nil
}

// blockCopy mirrors the running domain's disk (by target, "vda") into dest
// (a full copy, so dest has no backing file) and, once the mirror is in
// sync, cancels the job, which leaves dest a consistent copy and the domain
// on its own disk.
func (h *Host) blockCopy(ctx context.Context, d *libvirt.Domain, disk string, dest *libvirt.StorageVol) error {
	path, err := dest.GetPath()
	if err != nil {
		return err
	}
	target, err := (&libvirtxml.DomainDisk{
		Driver: &libvirtxml.DomainDiskDriver{Type: "qcow2"},
		Source: &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: path}},
	}).Marshal()
	if err != nil {
		return err
	}
	// TRANSIENT_JOB allows the copy on a persistent domain (the job is not
	// resumed if QEMU restarts); REUSE_EXT writes into the volume created
	// through the pool instead of a file libvirt would create itself.
	if err := d.BlockCopy(disk, target, &libvirt.DomainBlockCopyParameters{},
		libvirt.DOMAIN_BLOCK_COPY_REUSE_EXT|libvirt.DOMAIN_BLOCK_COPY_TRANSIENT_JOB); err != nil {
		return err
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		// libvirt reports cur == end for a copy job only once QEMU says
		// the mirror is ready.
		info, err := d.GetBlockJobInfo(disk, 0)
		if err != nil {
			_ = d.BlockJobAbort(disk, 0)
			return err
		}
		if info.Type == 0 && info.End == 0 {
			return errors.New("block copy job ended before the copy was complete")
		}
		if info.End > 0 && info.Cur == info.End {
			break
		}
		select {
		case <-ctx.Done():
			_ = d.BlockJobAbort(disk, 0)
			return ctx.Err()
		case <-tick.C:
		}
	}
	return d.BlockJobAbort(disk, 0)
}

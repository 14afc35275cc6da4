package hypervisor

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"
)

// storagePool returns the active dir pool name, defining, building and
// starting it (with autostart, so it survives a host reboot) when missing.
// An existing pool is used wherever its directory is; if that directory
// vanished (someone removed it under a running pool), it is built again.
func (h *Host) storagePool(s *session, name, dir string) (*libvirt.StoragePool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pools[name]; p != nil {
		return p, nil
	}
	p, err := s.conn.LookupStoragePoolByName(name)
	if isCode(err, libvirt.ERR_NO_STORAGE_POOL) {
		p, err = h.definePool(s, name, dir)
	}
	if err != nil {
		return nil, h.wrap("storage pool "+name, err)
	}
	active, err := p.IsActive()
	if err == nil && active && p.Refresh(0) != nil {
		if err = p.Destroy(); err == nil {
			active = false
		}
	}
	if err == nil && !active {
		if err = p.Build(0); err == nil {
			err = p.Create(0)
		}
	}
	if err != nil {
		_ = p.Free()
		return nil, h.wrap("starting storage pool "+name, err)
	}
	s.pools[name] = p
	return p, nil
}

func (h *Host) definePool(s *session, name, dir string) (*libvirt.StoragePool, error) {
	doc, err := (&libvirtxml.StoragePool{Type: "dir", Name: name, Target: &libvirtxml.StoragePoolTarget{Path: dir}}).Marshal()
	if err != nil {
		return nil, err
	}
	p, err := s.conn.StoragePoolDefineXML(doc, 0)
	if err != nil {
		// Another process may have defined it meanwhile.
		if again, lerr := s.conn.LookupStoragePoolByName(name); lerr == nil {
			return again, nil
		}
		return nil, err
	}
	h.log.Info("defined storage pool", "pool", name, "dir", dir)
	if err := p.Build(0); err != nil {
		_ = p.Free()
		return nil, fmt.Errorf("building (mkdir %s): %w", dir, err)
	}
	if err := p.SetAutostart(true); err != nil {
		_ = p.Free()
		return nil, err
	}
	return p, nil
}

// lookupVolume returns the named volume, or nil when there is none.
func lookupVolume(pool *libvirt.StoragePool, name string) (*libvirt.StorageVol, error) {
	v, err := pool.LookupStorageVolByName(name)
	if isCode(err, libvirt.ERR_NO_STORAGE_VOL) {
		return nil, nil
	}
	return v, err
}

// createVolume creates a volume of format with capacity bytes. Allocation
// is 0 on purpose: nothing is preallocated, and the test driver, which
// charges a volume's allocation against its fixed 100 GiB pool, would
// otherwise run out after a handful of servers.
func createVolume(pool *libvirt.StoragePool, name, format string, capacity uint64, backing *libvirtxml.StorageVolumeBackingStore) (*libvirt.StorageVol, error) {
	doc, err := volumeXML(name, format, capacity, backing)
	if err != nil {
		return nil, err
	}
	return pool.StorageVolCreateXML(doc, 0)
}

func volumeXML(name, format string, capacity uint64, backing *libvirtxml.StorageVolumeBackingStore) (string, error) {
	return (&libvirtxml.StorageVolume{
		Name:         name,
		Capacity:     &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: capacity},
		Allocation:   &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: 0},
		Target:       &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: format}},
		BackingStore: backing,
	}).Marshal()
}

// fileSize is the size of a volume's file on the host (not the virtual size
// of an image in it).
func fileSize(v *libvirt.StorageVol) (uint64, error) {
	info, err := v.GetInfoFlags(libvirt.STORAGE_VOL_GET_PHYSICAL)
	if err != nil {
		return 0, err
	}
	return info.Allocation, nil
}

// upload is one EnsureImage upload in flight; concurrent callers for the
// same image wait for it.
type upload struct {
	done chan struct{}
	err  error
}

// EnsureImage caches a base image on the host: volume "<imageID>.<format>"
// in the images pool, uploaded once from open() through libvirt's stream
// API. size must be the image's exact byte count; it also tells a complete
// upload from one a crash interrupted (which is deleted and redone).
// Concurrent calls for the same image in this process upload once. format
// is "qcow2" or "raw"; it is recorded in the volume name and never probed
// from the content, so an image cannot pass itself off as another format.
// On a test:// host the volume is created with its declared size and open
// is never called: the test driver implements no upload.
func (h *Host) EnsureImage(ctx context.Context, imageID, format string, size int64, open func(ctx context.Context) (io.ReadCloser, error)) error {
	if err := checkID("image", imageID); err != nil {
		return err
	}
	if format != "qcow2" && format != "raw" {
		return fmt.Errorf("hypervisor: image %s: disk format %q not supported (qcow2 or raw)", imageID, format)
	}
	if size <= 0 {
		return fmt.Errorf("hypervisor: image %s: size %d: the exact byte count is required", imageID, size)
	}
	name := imageVolume(imageID, format)
	h.imagesMu.Lock()
	if u, ok := h.images[name]; ok {
		h.imagesMu.Unlock()
		select {
		case <-u.done:
			return u.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	u := &upload{done: make(chan struct{})}
	h.images[name] = u
	h.imagesMu.Unlock()

	u.err = h.do(ctx, func(s *session) error { return h.ensureImage(ctx, s, name, uint64(size), open) })
	h.imagesMu.Lock()
	delete(h.images, name)
	h.imagesMu.Unlock()
	close(u.done)
	return u.err
}

func (h *Host) ensureImage(ctx context.Context, s *session, name string, size uint64, open func(ctx context.Context) (io.ReadCloser, error)) error {
	pool, err := h.storagePool(s, h.cfg.ImagesPool, h.cfg.ImagesDir)
	if err != nil {
		return err
	}
	vol, err := lookupVolume(pool, name)
	if err != nil {
		return h.wrap("looking up image volume "+name, err)
	}
	if vol != nil {
		defer vol.Free()
		if h.simulated {
			return nil // nothing was uploaded, so existing is all there is
		}
		have, err := fileSize(vol)
		if err != nil {
			return h.wrap("sizing image volume "+name, err)
		}
		if have == size {
			return nil
		}
		h.log.Warn("image volume incomplete; uploading again", "volume", name, "have", have, "want", size)
		if err := vol.Delete(0); err != nil {
			return h.wrap("deleting incomplete image volume "+name, err)
		}
	}
	if h.simulated {
		// The test driver has no virStorageVolUpload: create the volume at
		// its declared size and leave it empty.
		vol, err := createVolume(pool, name, "raw", size, nil)
		if err != nil {
			return h.wrap("creating image volume "+name, err)
		}
		return vol.Free()
	}
	// The volume starts empty and the upload writes the image byte for
	// byte; its file size is then the completeness check above. It is
	// declared raw because libvirt would otherwise write a fresh qcow2
	// header for the upload to overwrite.
	vol, err = createVolume(pool, name, "raw", 0, nil)
	if err != nil {
		return h.wrap("creating image volume "+name, err)
	}
	defer vol.Free()
	r, err := open(ctx)
	if err != nil {
		_ = vol.Delete(0)
		return fmt.Errorf("hypervisor: opening image for %s: %w", name, err)
	}
	defer r.Close()
	if err := h.uploadVolume(ctx, s, vol, r, size); err != nil {
		_ = vol.Delete(0)
		return fmt.Errorf("hypervisor %s: uploading %s: %w", h.uri, name, err)
	}
	h.log.Info("cached image", "volume", name, "bytes", size)
	return nil
}

// uploadVolume streams exactly size bytes from r into vol.
func (h *Host) uploadVolume(ctx context.Context, s *session, vol *libvirt.StorageVol, r io.Reader, size uint64) error {
	stream, err := s.conn.NewStream(0)
	if err != nil {
		return err
	}
	defer stream.Free()
	if err := vol.Upload(stream, 0, size, 0); err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	var sent uint64
	for {
		if err := ctx.Err(); err != nil {
			_ = stream.Abort()
			return err
		}
		n, rerr := r.Read(buf)
		if sent+uint64(n) > size {
			_ = stream.Abort()
			return fmt.Errorf("source is longer than the declared %d bytes", size)
		}
		for off := 0; off < n; {
			m, err := stream.Send(buf[off:n])
			if err != nil {
				_ = stream.Abort()
				return err
			}
			off += m
		}
		sent += uint64(n)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			_ = stream.Abort()
			return rerr
		}
	}
	if sent != size {
		_ = stream.Abort()
		return fmt.Errorf("source ended after %d of the declared %d bytes", sent, size)
	}
	return stream.Finish()
}

// downloadVolume reads length bytes of vol from offset (length 0: to the
// end).
func downloadVolume(s *session, vol *libvirt.StorageVol, offset, length uint64) (*volumeReader, error) {
	stream, err := s.conn.NewStream(0)
	if err != nil {
		return nil, err
	}
	if err := vol.Download(stream, offset, length, 0); err != nil {
		_ = stream.Free()
		return nil, err
	}
	return &volumeReader{stream: stream}, nil
}

// volumeReader is an io.ReadCloser over a download stream; onClose runs
// once after the stream is finished or aborted.
type volumeReader struct {
	stream  *libvirt.Stream
	eof     bool
	closed  bool
	onClose func()
}

func (r *volumeReader) Read(p []byte) (int, error) {
	if r.eof {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := r.stream.Recv(p)
	if errors.Is(err, io.EOF) {
		r.eof = true
		return n, io.EOF
	}
	return n, err
}

// Close finishes the stream after a full read and aborts it otherwise.
func (r *volumeReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var err error
	if r.eof {
		err = r.stream.Finish()
	} else {
		err = r.stream.Abort()
	}
	_ = r.stream.Free()
	if r.onClose != nil {
		r.onClose()
	}
	return err
}

// baseImage finds the cached base volume of an image and its virtual size.
func (h *Host) baseImage(s *session, pool *libvirt.StoragePool, imageID string) (vol *libvirt.StorageVol, format string, vsize uint64, err error) {
	for _, format = range []string{"qcow2", "raw"} {
		name := imageVolume(imageID, format)
		if vol, err = lookupVolume(pool, name); err != nil {
			return nil, "", 0, h.wrap("looking up image volume "+name, err)
		}
		if vol == nil {
			continue
		}
		if vsize, err = h.virtualSize(s, vol, name, format); err != nil {
			_ = vol.Free()
			return nil, "", 0, err
		}
		return vol, format, vsize, nil
	}
	return nil, "", 0, fmt.Errorf("%w: image %s on %s", ErrImageNotCached, imageID, h.uri)
}

// virtualSize is the disk size a base image gives a guest. For qcow2 it is
// read from the header, downloaded (the virtual size is not the file size,
// and libvirt's own idea of it depends on format probing and on when the
// pool was last refreshed); results are cached per connection. On the test
// driver the volume's declared capacity stands in, as nothing was uploaded.
func (h *Host) virtualSize(s *session, vol *libvirt.StorageVol, name, format string) (uint64, error) {
	s.mu.Lock()
	size, ok := s.baseSizes[name]
	s.mu.Unlock()
	if ok {
		return size, nil
	}
	var err error
	switch {
	case h.simulated:
		var info *libvirt.StorageVolInfo
		if info, err = vol.GetInfo(); err == nil {
			size = info.Capacity
		}
	case format == "raw":
		size, err = fileSize(vol)
	default:
		size, err = qcow2VirtualSize(s, vol)
	}
	if err != nil {
		return 0, h.wrap("sizing image volume "+name, err)
	}
	s.mu.Lock()
	s.baseSizes[name] = size
	s.mu.Unlock()
	return size, nil
}

func qcow2VirtualSize(s *session, vol *libvirt.StorageVol) (uint64, error) {
	r, err := downloadVolume(s, vol, 0, 32)
	if err != nil {
		return 0, err
	}
	hdr, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("reading qcow2 header: %w", err)
	}
	if len(hdr) < 32 || !bytes.Equal(hdr[:4], []byte("QFI\xfb")) {
		return 0, errors.New("declared qcow2 but has no qcow2 header")
	}
	return binary.BigEndian.Uint64(hdr[24:32]), nil
}

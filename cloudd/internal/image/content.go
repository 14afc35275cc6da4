package image

import (
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"syscall"

	"github.com/stratus-cloud/stratus/cloudd/internal/image/format"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

// contentStore keeps image data in files on the control node:
// <dir>/<id> for images with data, <dir>/staging/<id> for data staged for
// an import, and <dir>/.incoming-* while data arrives. Data is written to
// a temporary file and renamed into place only once it is complete,
// synced, hashed and inspected, so a file under its final name is always
// whole; the directory is synced after the rename, before the image's
// record says the data is there.
type contentStore struct {
	dir string
}

func newContentStore(dir string) (*contentStore, error) {
	if err := os.MkdirAll(filepath.Join(dir, "staging"), 0o700); err != nil {
		return nil, err
	}
	return &contentStore{dir: dir}, nil
}

func (cs *contentStore) dataPath(id string) string    { return filepath.Join(cs.dir, id) }
func (cs *contentStore) stagingPath(id string) string { return filepath.Join(cs.dir, "staging", id) }

// remove deletes an image's data and staged data, if any.
func (cs *contentStore) remove(id string) error {
	var errs []error
	for _, p := range []string{cs.dataPath(id), cs.stagingPath(id)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// dataInfo describes data that has been received.
type dataInfo struct {
	Size, VirtualSize int64
	Checksum          string // md5, hex
	HashValue         string // sha512, hex
	Format            string // as detected
}

// incoming is data received into a temporary file.
type incoming struct {
	dataInfo
	path string
}

// discard removes the temporary file; harmless once it was renamed.
func (in *incoming) discard() { _ = os.Remove(in.path) }

// errTooLarge is data over the size limit; the image goes back to queued.
type errTooLarge struct{ limit int64 }

func (e errTooLarge) Error() string {
	return fmt.Sprintf("image data is larger than the limit of %d bytes", e.limit)
}

// interrupted is a transfer that broke off midway: reading the client's
// data failed. The image is killed.
type interrupted struct{ err error }

func (e interrupted) Error() string { return e.err.Error() }
func (e interrupted) Unwrap() error { return e.err }

// receive streams r into a temporary file, at most limit bytes, hashing
// it on the way (md5 for checksum, sha512 for os_hash_value), syncs it
// and inspects its format. At most chunkCount chunks of chunkSize bytes
// are in memory at a time, whatever the size of the image.
func (cs *contentStore) receive(r io.Reader, limit int64) (*incoming, error) {
	f, err := os.CreateTemp(cs.dir, ".incoming-*")
	if err != nil {
		return nil, err
	}
	in := &incoming{path: f.Name()}
	err = in.fill(f, r, limit)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("writing image data: %w", cerr)
	}
	if err != nil {
		in.discard()
		return nil, err
	}
	return in, nil
}

func (in *incoming) fill(f *os.File, r io.Reader, limit int64) error {
	md5sum, sha := md5.New(), sha512.New()
	n, err := copyHashing(&dataWriter{f: f}, r, limit, md5sum, sha)
	if err != nil {
		return err
	}
	// Most of the data is on disk already (see dataWriter): this waits
	// for what is left, at most two windows, and the file's metadata.
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing image data: %w", err)
	}
	info, err := format.Inspect(f, n)
	if err != nil {
		return err
	}
	in.dataInfo = dataInfo{Size: n, VirtualSize: info.VirtualSize, Format: info.Format,
		Checksum: hex.EncodeToString(md5sum.Sum(nil)), HashValue: hex.EncodeToString(sha.Sum(nil))}
	return nil
}

// syncDir makes a rename into dir durable: the file's data was synced
// before the rename, but its new name is an entry of the directory.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// receiveError says which status the image goes to after err while
// receiving or checking its data, and what the client sees: refused or
// oversized data leaves the image queued for another try, a broken
// transfer or a failing store kills it.
func receiveError(err error) (string, error) {
	var fe *format.Error
	var tooLarge errTooLarge
	var broken interrupted
	var refused *osapi.Error
	switch {
	case errors.As(err, &refused):
		return StatusQueued, refused
	case errors.As(err, &fe):
		return StatusQueued, osapi.Errorf(http.StatusBadRequest, "Image data rejected: %s.", fe.Error())
	case errors.As(err, &tooLarge):
		return StatusQueued, osapi.Errorf(http.StatusRequestEntityTooLarge, "Image exceeds the size limit: %s.", tooLarge.Error())
	case errors.Is(err, syscall.ENOSPC):
		return StatusQueued, osapi.Errorf(http.StatusRequestEntityTooLarge, "There is not enough space in the image store for this image.")
	case errors.As(err, &broken):
		return StatusKilled, osapi.Errorf(http.StatusBadRequest, "The image data transfer broke off: %v.", broken.err)
	}
	return StatusKilled, err
}

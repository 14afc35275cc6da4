package image

import (
	"bytes"
	"crypto/md5"
	"crypto/sha512"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

func randomData(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(b)
	return b
}

// TestCopyHashing streams data of awkward sizes, read in odd pieces,
// through the pipeline into a file and checks the file and both hashes.
func TestCopyHashing(t *testing.T) {
	sizes := []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, (chunkCount+3)*chunkSize + 12345,
		2*writebackWindow + writePiece + 3}
	for _, size := range sizes {
		data := randomData(size)
		f, err := os.Create(filepath.Join(t.TempDir(), "data"))
		if err != nil {
			t.Fatal(err)
		}
		md5sum, sha := md5.New(), sha512.New()
		n, err := copyHashing(&dataWriter{f: f}, iotest.HalfReader(bytes.NewReader(data)), int64(size), md5sum, sha)
		if err != nil || n != int64(size) {
			t.Fatalf("size %d: copied %d, %v", size, n, err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(f.Name()); !bytes.Equal(got, data) {
			t.Errorf("size %d: the file differs from the data (%d bytes)", size, len(got))
		}
		if want := md5.Sum(data); !bytes.Equal(md5sum.Sum(nil), want[:]) {
			t.Errorf("size %d: wrong md5", size)
		}
		if want := sha512.Sum512(data); !bytes.Equal(sha.Sum(nil), want[:]) {
			t.Errorf("size %d: wrong sha512", size)
		}
	}
}

type failingWriter struct {
	n   int // bytes accepted before failing
	err error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return w.n, w.err
	}
	w.n -= len(p)
	return len(p), nil
}

func TestCopyHashingFailures(t *testing.T) {
	data := randomData(5*chunkSize + 1)

	// More than the limit: refused as soon as it is seen.
	_, err := copyHashing(io.Discard, bytes.NewReader(data), int64(len(data)-1), md5.New(), sha512.New())
	if !errors.As(err, new(errTooLarge)) {
		t.Errorf("over the limit: %v, want errTooLarge", err)
	}

	// The store fails: its error, whatever the reader does.
	full := errors.New("disk full")
	_, err = copyHashing(&failingWriter{n: 2*chunkSize + 5, err: full}, bytes.NewReader(data), int64(len(data)), md5.New())
	if !errors.Is(err, full) || errors.As(err, new(interrupted)) {
		t.Errorf("failing store: %v, want the store's error", err)
	}

	// The client's stream breaks off.
	cut := io.MultiReader(bytes.NewReader(data[:3*chunkSize+7]), iotest.ErrReader(io.ErrUnexpectedEOF))
	_, err = copyHashing(io.Discard, cut, int64(len(data)), sha512.New())
	if !errors.As(err, new(interrupted)) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("broken stream: %v, want interrupted", err)
	}
}

package glance_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/cloudd/internal/glance"
	"github.com/stratus-cloud/stratus/cloudd/internal/image"
	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// imageClient returns an image v2 service client for pc, found through
// the catalog as every OpenStack client finds it.
func imageClient(t testing.TB, pc *gophercloud.ProviderClient) *gophercloud.ServiceClient {
	t.Helper()
	sc, err := openstack.NewImageV2(pc, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// do sends one raw request to the image API of sc; headers are "Name",
// "value" pairs.
func do(t testing.TB, sc *gophercloud.ServiceClient, method, path string, body io.Reader, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, sc.ResourceBaseURL()+strings.TrimPrefix(path, "/"), body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", sc.Token())
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// patch sends a raw JSON patch document.
func patch(t testing.TB, sc *gophercloud.ServiceClient, id, doc string) response {
	t.Helper()
	return do(t, sc, http.MethodPatch, "images/"+id, strings.NewReader(doc),
		"Content-Type", "application/openstack-images-v2.1-json-patch")
}

// faultMessage returns the message of an OpenStack JSON fault body, or
// fails the test if the body is not one with the given code.
func faultMessage(t testing.TB, what string, res response, code int) string {
	t.Helper()
	if res.status != code {
		t.Fatalf("%s = %s, want %d", what, res, code)
	}
	var fault map[string]struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(res.body, &fault); err != nil || len(fault) != 1 {
		t.Fatalf("%s: body %s is not an OpenStack fault", what, res.body)
	}
	for _, f := range fault {
		if f.Code != code || f.Message == "" {
			t.Fatalf("%s: fault %s lacks code %d or a message", what, res.body, code)
		}
		return f.Message
	}
	return ""
}

// payload returns n deterministic pseudo-random bytes.
func payload(seed uint64, n int) []byte {
	b := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	_, _ = rng.Read(b)
	return b
}

// qcow2Data returns a qcow2 image of 1 GiB virtual size: a real version 3
// header followed by n bytes of payload. extra changes the header.
func qcow2Data(n int, extra func(h []byte)) []byte {
	be := binary.BigEndian
	b := append(make([]byte, 64<<10), payload(2, n)...)
	copy(b, "QFI\xfb")
	be.PutUint32(b[4:], 3)
	be.PutUint32(b[20:], 16)
	be.PutUint64(b[24:], 1<<30)
	be.PutUint32(b[96:], 4)
	be.PutUint32(b[100:], 104)
	clear(b[104:512])
	if extra != nil {
		extra(b)
	}
	return b
}

// withBackingFile points the header at a backing file name.
func withBackingFile(h []byte) {
	copy(h[1024:], "/etc/passwd")
	binary.BigEndian.PutUint64(h[8:], 1024)
	binary.BigEndian.PutUint32(h[16:], 11)
}

// withDataFile sets the external data file incompatible feature bit.
func withDataFile(h []byte) { binary.BigEndian.PutUint64(h[72:], 1<<2) }

// vmdkWithExternalExtent is a monolithicSparse VMDK whose descriptor adds
// a FLAT extent reading /etc/shadow.
func vmdkWithExternalExtent() []byte {
	desc := "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicSparse\"\n" +
		"RW 2048 SPARSE \"disk.vmdk\"\nRW 2048 FLAT \"/etc/shadow\" 0\n"
	b := make([]byte, 4096)
	copy(b, "KDMV")
	le := binary.LittleEndian
	le.PutUint32(b[4:], 1)
	le.PutUint64(b[12:], 4096)
	le.PutUint64(b[28:], 1)
	le.PutUint64(b[36:], 1)
	copy(b[512:], desc)
	return b
}

// isoData is an ISO 9660 image: "CD001" at 32 KiB.
func isoData() []byte {
	b := payload(3, 64<<10)
	clear(b[:34<<10])
	b[32<<10] = 1
	copy(b[32<<10+1:], "CD001")
	return b
}

// createImage creates an image with gophercloud and fails the test on error.
func createImage(t testing.TB, sc *gophercloud.ServiceClient, opts images.CreateOpts) *images.Image {
	t.Helper()
	img, err := images.Create(context.Background(), sc, opts).Extract()
	if err != nil {
		t.Fatalf("create image %q: %v", opts.Name, err)
	}
	return img
}

func getImage(t testing.TB, sc *gophercloud.ServiceClient, id string) *images.Image {
	t.Helper()
	img, err := images.Get(context.Background(), sc, id).Extract()
	if err != nil {
		t.Fatalf("get image %s: %v", id, err)
	}
	return img
}

// lowLimitImages serves a second image API over the cloud's database and
// tokens, with the size limit set to limit, and returns a client of it
// for pc.
func lowLimitImages(t testing.TB, cloud *cloudtest.Cloud, pc *gophercloud.ProviderClient, limit int64) *gophercloud.ServiceClient {
	t.Helper()
	svc, err := image.New(cloud.Server.Pool, image.Config{StateDir: t.TempDir(), MaxSize: limit})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(osapi.RequestIDs)
	r.Mount("/image", (&glance.API{Images: svc, Verifier: cloud.Server.Identity.Verifier}).Routes())
	ts := httptest.NewServer(r)
	t.Cleanup(ts.Close)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: ts.URL + "/image/", ResourceBase: ts.URL + "/image/v2/"}
}

// readAll drains r, failing the test on error.
func readAll(t testing.TB, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

package provider_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
	"github.com/stratus-cloud/stratus/provider/internal/provider"
)

// tfplugindocsVersion must match TFPLUGINDOCS_VERSION in the GNUmakefile.
const tfplugindocsVersion = "v0.24.0"

// repoRoot is the repository root, two levels above provider/internal/provider.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..", "..")
}

func providerSchema(t *testing.T) *tfprotov6.GetProviderSchemaResponse {
	t.Helper()
	srv, err := providerserver.NewProtocol6WithError(provider.New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Errorf("schema: %s: %s", d.Summary, d.Detail)
	}
	return resp
}

// TestExamplesExist: every resource has examples/resources/<type>/resource.tf
// and import.sh, every data source data-sources/<type>/data-source.tf, and
// there are no examples for types that do not exist.
func TestExamplesExist(t *testing.T) {
	root := repoRoot(t)
	s := providerSchema(t)
	want := map[string]bool{filepath.Join("examples", "provider", "provider.tf"): true}
	for typ := range s.ResourceSchemas {
		want[filepath.Join("examples", "resources", typ, "resource.tf")] = true
		want[filepath.Join("examples", "resources", typ, "import.sh")] = true
	}
	for typ := range s.DataSourceSchemas {
		want[filepath.Join("examples", "data-sources", typ, "data-source.tf")] = true
	}
	for f := range want {
		if fi, err := os.Stat(filepath.Join(root, f)); err != nil || fi.Size() == 0 {
			t.Errorf("missing or empty %s", f)
		}
	}
	for _, kind := range []string{"resources", "data-sources"} {
		entries, _ := os.ReadDir(filepath.Join(root, "examples", kind))
		for _, e := range entries {
			_, isRes := s.ResourceSchemas[e.Name()]
			_, isDS := s.DataSourceSchemas[e.Name()]
			if kind == "resources" && !isRes || kind == "data-sources" && !isDS {
				t.Errorf("examples/%s/%s: no such %s in the provider", kind, e.Name(), strings.TrimSuffix(kind, "s"))
			}
		}
	}
}

// TestSchemaDescriptions: every resource, data source and attribute, at
// any depth, is described.
func TestSchemaDescriptions(t *testing.T) {
	s := providerSchema(t)
	checkBlock(t, "provider", s.Provider.Block)
	for typ, sch := range s.ResourceSchemas {
		if sch.Block.Description == "" {
			t.Errorf("resource %s has no description", typ)
		}
		checkBlock(t, typ, sch.Block)
	}
	for typ, sch := range s.DataSourceSchemas {
		if sch.Block.Description == "" {
			t.Errorf("data source %s has no description", typ)
		}
		checkBlock(t, typ, sch.Block)
	}
}

func checkBlock(t *testing.T, where string, b *tfprotov6.SchemaBlock) {
	t.Helper()
	for _, a := range b.Attributes {
		checkAttribute(t, where+"."+a.Name, a)
	}
	for _, nb := range b.BlockTypes {
		checkBlock(t, where+"."+nb.TypeName, nb.Block)
	}
}

func checkAttribute(t *testing.T, where string, a *tfprotov6.SchemaAttribute) {
	t.Helper()
	if strings.TrimSpace(a.Description) == "" {
		t.Errorf("%s has no description", where)
	}
	if a.NestedType != nil {
		for _, na := range a.NestedType.Attributes {
			checkAttribute(t, where+"."+na.Name, na)
		}
	}
}

// TestDocsUpToDate fails when `make docs` would change docs/ or examples/:
// it renders the docs with the same tfplugindocs into a temporary directory
// and compares, and checks that examples/ is `terraform fmt` clean.
func TestDocsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tfplugindocs and the provider")
	}
	tf := acctest.TerraformPath()
	if tf == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Terraform CLI: tfplugindocs needs one")
		}
		t.Skip("no Terraform CLI: tfplugindocs needs one")
	}
	root := repoRoot(t)
	env := append(os.Environ(), "CHECKPOINT_DISABLE=1", "PATH="+filepath.Dir(tf)+string(os.PathListSeparator)+os.Getenv("PATH"))
	if f := os.Getenv("TF_CLI_CONFIG_FILE"); f == "" || !exists(f) {
		env = append(env, "TF_CLI_CONFIG_FILE="+os.DevNull)
	}

	fmtCmd := exec.Command(tf, "fmt", "-check", "-recursive", "-diff", filepath.Join(root, "examples"))
	fmtCmd.Env = env
	if out, err := fmtCmd.CombinedOutput(); err != nil {
		t.Errorf("examples/ is not terraform fmt clean (run make docs): %v\n%s", err, out)
	}

	providerDir := filepath.Join(root, "provider")
	out := t.TempDir()
	rel, err := filepath.Rel(providerDir, out)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs@"+tfplugindocsVersion,
		"generate", "--provider-name", "stratus", "--examples-dir", "../examples", "--rendered-website-dir", rel)
	cmd.Dir = providerDir
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tfplugindocs: %v\n%s", err, b)
	}
	got := readTree(t, out)
	committed := readTree(t, filepath.Join(root, "docs"))
	for name, data := range got {
		if old, ok := committed[name]; !ok {
			t.Errorf("docs/%s is missing (run make docs)", name)
		} else if !bytes.Equal(old, data) {
			t.Errorf("docs/%s is out of date (run make docs)", name)
		}
	}
	for name := range committed {
		if _, ok := got[name]; !ok {
			t.Errorf("docs/%s is not generated any more (run make docs)", name)
		}
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[rel] = data
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return files
}

package blockstorage_test

import (
	"testing"

	"github.com/stratus-cloud/stratus/provider/internal/acctest"
)

func TestMain(m *testing.M) { acctest.Main(m) }

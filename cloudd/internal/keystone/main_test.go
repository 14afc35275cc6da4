package keystone_test

import (
	"testing"

	"github.com/stratus-cloud/stratus/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

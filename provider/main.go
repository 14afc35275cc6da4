// Command terraform-provider-stratus is the Terraform provider for Stratus.
// `make build` installs it as bin/terraform-provider-stratus.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/stratus-cloud/stratus/provider/internal/provider"
)

// version is set at release time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/stratus-cloud/stratus",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}

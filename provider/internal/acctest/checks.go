package acctest

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/stratus-cloud/stratus/provider/internal/client"
)

// ID is the id of resource res in s.
func ID(s *terraform.State, res string) (string, error) {
	rs, ok := s.RootModule().Resources[res]
	if !ok {
		return "", fmt.Errorf("%s is not in the state", res)
	}
	if rs.Primary.ID == "" {
		return "", fmt.Errorf("%s has no id", res)
	}
	return rs.Primary.ID, nil
}

// CheckExists calls get with the id of res; get fails unless the cloud
// has it as expected.
func CheckExists(res string, get func(id string) error) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		id, err := ID(s, res)
		if err != nil {
			return err
		}
		return get(id)
	}
}

// CheckDisappears deletes res behind Terraform's back; the step must set
// ExpectNonEmptyPlan, since Read then drops it and the plan recreates it.
func CheckDisappears(res string, del func(id string) error) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		id, err := ID(s, res)
		if err != nil {
			return err
		}
		return del(id)
	}
}

// CheckDestroy requires every resource of type typ to be gone: get must
// return the API's 404.
func CheckDestroy(typ string, get func(id string) error) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for _, rs := range s.RootModule().Resources {
			if rs.Type != typ {
				continue
			}
			err := get(rs.Primary.ID)
			if err == nil {
				return fmt.Errorf("%s %s still exists", typ, rs.Primary.ID)
			}
			if !client.IsNotFound(err) {
				return err
			}
		}
		return nil
	}
}

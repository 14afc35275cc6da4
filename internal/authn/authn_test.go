package authn

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/token"
)

func newVerifier(t testing.TB) (*Verifier, func(token.Claims) string) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	keys := token.NewKeyring(nil)
	keys.SetSigningKey(1, priv)
	return NewVerifier(keys), func(c token.Claims) string {
		tok, err := keys.Issue(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

func id(n int) string { return fmt.Sprintf("%032x", n) }

func claims(user, project int, issued time.Time) token.Claims {
	return token.Claims{UserID: id(user), ProjectID: id(project), Roles: token.RoleMember, Methods: token.MethodPassword,
		IssuedAt: issued, ExpiresAt: issued.Add(time.Hour), AuditID: id(1000 + user), AuditChainID: id(1000 + user)}
}

func TestRevocationMatching(t *testing.T) {
	v, issue := newVerifier(t)
	now := time.Now().Truncate(time.Microsecond)
	before := now.Add(-time.Minute)
	tokens := map[string]string{
		"old token of user 1":  issue(claims(1, 10, before)),
		"new token of user 1":  issue(claims(1, 10, now.Add(time.Second))),
		"old token of user 2":  issue(claims(2, 10, before)),
		"user 3 in project 11": issue(claims(3, 11, before)),
		"user 3 in project 12": issue(claims(3, 12, before)),
	}
	v.SetRevocations([]Revocation{
		{UserID: id(1), IssuedBefore: now},                    // user 1 changed password
		{UserID: id(3), ProjectID: id(11), IssuedBefore: now}, // user 3 lost a role on project 11
	})
	v.AddRevocations(Revocation{AuditID: id(1002), IssuedBefore: now}) // user 2 logged out
	for name, valid := range map[string]bool{
		"old token of user 1": false, "new token of user 1": true, "old token of user 2": false,
		"user 3 in project 11": false, "user 3 in project 12": true,
	} {
		if _, err := v.Verify(tokens[name]); (err == nil) != valid {
			t.Errorf("%s: err = %v, want valid=%v", name, err, valid)
		}
	}
}

// BenchmarkVerify is what every API request pays: signature (or cache),
// expiry and a revocation check against 1,000 live revocation events.
// Run with -cpu 1 for the per-core figure.
func BenchmarkVerify(b *testing.B) {
	v, issue := newVerifier(b)
	now := time.Now()
	var events []Revocation
	for i := range 1000 {
		events = append(events, Revocation{UserID: id(5000 + i), IssuedBefore: now})
	}
	v.SetRevocations(events)
	tok := issue(claims(1, 10, now))
	for b.Loop() {
		if _, err := v.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "validations/s")
}

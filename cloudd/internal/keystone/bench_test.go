package keystone_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stratus-cloud/stratus/cloudd/cloudtest"
	"github.com/stratus-cloud/stratus/cloudd/internal/identity"
)

// issue POSTs an auth body to /v3/auth/tokens and returns the new token.
func issue(b *testing.B, cloud *cloudtest.Cloud, body map[string]any) string {
	payload, _ := json.Marshal(map[string]any{"auth": body})
	resp, err := http.Post(cloud.AuthURL+"/auth/tokens", "application/json", bytes.NewReader(payload))
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("token issue: %s", resp.Status)
	}
	return resp.Header.Get("X-Subject-Token")
}

func passwordAuth(password string) map[string]any {
	return map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": "admin", "password": password, "domain": map[string]string{"id": "default"}}}},
		"scope": map[string]any{"project": map[string]any{"name": "admin", "domain": map[string]string{"id": "default"}}},
	}
}

// BenchmarkIssueToken measures POST /v3/auth/tokens over HTTP on loopback,
// catalog included, for the token method (re-scoping or renewing a token)
// and the password method, next to the password hash alone, which is most
// of a password login by design.
func BenchmarkIssueToken(b *testing.B) {
	cloud := cloudtest.Start(b)
	tok := issue(b, cloud, passwordAuth(cloud.AdminPassword))
	b.Run("token-method", func(b *testing.B) {
		body := map[string]any{
			"identity": map[string]any{"methods": []string{"token"}, "token": map[string]string{"id": tok}},
			"scope":    map[string]any{"project": map[string]any{"name": "admin", "domain": map[string]string{"id": "default"}}},
		}
		for b.Loop() {
			issue(b, cloud, body)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/issue")
	})
	b.Run("password-method", func(b *testing.B) {
		for b.Loop() {
			issue(b, cloud, passwordAuth(cloud.AdminPassword))
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/login")
	})
	b.Run("argon2id-hash-alone", func(b *testing.B) {
		hash := identity.HashSecret("correct horse battery staple")
		for b.Loop() {
			identity.CheckSecret(hash, "correct horse battery staple")
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/check")
	})
}

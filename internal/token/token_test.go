package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	userID    = "0123456789abcdef0123456789abcdef"
	projectID = "fedcba9876543210fedcba9876543210"
	auditID   = "00112233445566778899aabbccddeeff"
	appCredID = "ffeeddccbbaa99887766554433221100"
)

func newKeyring(t testing.TB, now func() time.Time) (*Keyring, ed25519.PrivateKey) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := NewKeyring(now)
	k.SetSigningKey(7, priv)
	return k, priv
}

func claims(issued time.Time) Claims {
	return Claims{
		UserID: userID, ProjectID: projectID, Roles: RoleMember | RoleReader,
		Methods: MethodPassword, IssuedAt: issued, ExpiresAt: issued.Add(time.Hour),
		AuditID: auditID, AuditChainID: auditID,
	}
}

func TestRoundTripAndSize(t *testing.T) {
	now := time.Now().Truncate(time.Microsecond).UTC()
	k, _ := newKeyring(t, func() time.Time { return now })
	for _, tc := range []struct {
		name string
		edit func(*Claims)
	}{
		{"project scoped", func(*Claims) {}},
		{"unscoped", func(c *Claims) { c.ProjectID = ""; c.Roles = 0 }},
		{"application credential", func(c *Claims) {
			c.AppCredID, c.Unrestricted, c.Methods = appCredID, true, MethodApplicationCredential
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := claims(now)
			tc.edit(&want)
			tok, err := k.Issue(want)
			if err != nil {
				t.Fatal(err)
			}
			if len(tok) >= 250 {
				t.Errorf("token is %d bytes, want under 250", len(tok))
			}
			got, err := k.Verify(tok)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("claims changed in transit:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	now := time.Now().UTC()
	clock := now
	k, _ := newKeyring(t, func() time.Time { return clock })
	good, err := k.Issue(claims(now))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newKeyring(t, nil)
	foreign, _ := other.Issue(claims(now))

	flipped := []byte(good)
	flipped[40] ^= 1 // inside the signed claims
	if string(flipped) == good {
		t.Fatal("flip did nothing")
	}
	for _, tc := range []struct {
		name string
		tok  string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"not base64", "!!!" + good[3:], ErrMalformed},
		{"truncated", good[:100], ErrMalformed},
		{"tampered", string(flipped), nil},
		{"signed by a stranger with our key id", foreign, ErrBadSig},
		{"oversized", strings.Repeat("A", 4096), ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := k.Verify(tc.tok)
			if err == nil {
				t.Fatal("accepted a bad token")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}

	clock = now.Add(2 * time.Hour)
	if _, err := k.Verify(good); !errors.Is(err, ErrExpired) {
		t.Errorf("expired token (cached): got %v", err)
	}
}

func TestRotationKeepsOldTokensUntilKeyDropped(t *testing.T) {
	k, _ := newKeyring(t, nil)
	old, _ := k.Issue(claims(time.Now()))

	_, newKey, _ := ed25519.GenerateKey(rand.Reader)
	k.SetSigningKey(8, newKey)
	fresh, _ := k.Issue(claims(time.Now()))
	for _, tok := range []string{old, fresh} {
		if _, err := k.Verify(tok); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
	}

	// Retire key 7: its tokens stop working, even from the cache.
	k.SetKeys(map[uint32]ed25519.PublicKey{8: newKey.Public().(ed25519.PublicKey)})
	if _, err := k.Verify(old); !errors.Is(err, ErrBadKey) {
		t.Errorf("token of retired key: got %v, want ErrBadKey", err)
	}
	if _, err := k.Verify(fresh); err != nil {
		t.Errorf("token of current key: %v", err)
	}
}

// BenchmarkVerify reports validations per second for a token clients reuse
// (cache hit) and for a token seen for the first time (signature check).
func BenchmarkVerify(b *testing.B) {
	k, _ := newKeyring(b, nil)
	tok, _ := k.Issue(claims(time.Now()))
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := k.Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "validations/s")
	})
	b.Run("first-sight", func(b *testing.B) {
		fresh := NewKeyring(nil)
		k.mu.RLock()
		fresh.SetKeys(map[uint32]ed25519.PublicKey{7: k.public[7]})
		k.mu.RUnlock()
		for b.Loop() {
			if _, err := fresh.Verify(tok); err != nil {
				b.Fatal(err)
			}
			fresh.cache.Clear()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "validations/s")
	})
}

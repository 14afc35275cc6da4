// Package authn is the token-verification middleware every Stratus service
// mounts: it verifies X-Auth-Token against the trusted keys, rejects revoked
// tokens, and hands the claims to handlers through the request context. The
// keys and revocation events it trusts are pushed into it by a refresher
// (identity reads them from its tables, other services from identity's API).
package authn

import (
	"net/http"
	"sync"
	"time"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Revocation is a Keystone revocation event: every non-empty field must
// match a token, and the token must be issued no later than IssuedBefore.
type Revocation struct {
	AuditID      string
	AuditChainID string
	UserID       string
	ProjectID    string
	AppCredID    string
	IssuedBefore time.Time
}

func (r Revocation) matches(c *token.Claims) bool {
	return c.IssuedAt.Compare(r.IssuedBefore) <= 0 &&
		(r.AuditID == "" || r.AuditID == c.AuditID) &&
		(r.AuditChainID == "" || r.AuditChainID == c.AuditChainID) &&
		(r.UserID == "" || r.UserID == c.UserID) &&
		(r.ProjectID == "" || r.ProjectID == c.ProjectID) &&
		(r.AppCredID == "" || r.AppCredID == c.AppCredID)
}

// indexKey files an event under its most selective field.
func (r Revocation) indexKey() string {
	switch {
	case r.AuditID != "":
		return "a" + r.AuditID
	case r.AuditChainID != "":
		return "c" + r.AuditChainID
	case r.AppCredID != "":
		return "k" + r.AppCredID
	case r.UserID != "":
		return "u" + r.UserID
	default:
		return "p" + r.ProjectID
	}
}

// Verifier checks tokens. It is safe for concurrent use.
type Verifier struct {
	Keys *token.Keyring

	mu      sync.RWMutex
	revoked map[string][]Revocation
}

// NewVerifier returns a verifier trusting keys.
func NewVerifier(keys *token.Keyring) *Verifier {
	return &Verifier{Keys: keys, revoked: map[string][]Revocation{}}
}

// SetRevocations replaces every known revocation event with events: the
// refresher passes all events younger than the longest token lifetime.
func (v *Verifier) SetRevocations(events []Revocation) {
	index := make(map[string][]Revocation, len(events))
	for _, e := range events {
		index[e.indexKey()] = append(index[e.indexKey()], e)
	}
	v.mu.Lock()
	v.revoked = index
	v.mu.Unlock()
}

// AddRevocations records events at once, before the next refresh brings
// them from storage.
func (v *Verifier) AddRevocations(events ...Revocation) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, e := range events {
		v.revoked[e.indexKey()] = append(v.revoked[e.indexKey()], e)
	}
}

// Verify returns the claims of a valid, unrevoked token.
func (v *Verifier) Verify(tok string) (*token.Claims, error) {
	c, err := v.Keys.Verify(tok)
	if err != nil {
		return nil, err
	}
	if v.isRevoked(&c) {
		return nil, errRevoked
	}
	return &c, nil
}

var errRevoked = osapi.Errorf(http.StatusUnauthorized, "The token has been revoked.")

func (v *Verifier) isRevoked(c *token.Claims) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if len(v.revoked) == 0 {
		return false
	}
	for _, k := range [...]string{"a" + c.AuditID, "c" + c.AuditChainID, "k" + c.AppCredID, "u" + c.UserID, "p" + c.ProjectID} {
		for _, r := range v.revoked[k] {
			if r.matches(c) {
				return true
			}
		}
	}
	return false
}

// Require rejects requests without a valid X-Auth-Token with 401 and
// stores the claims for policy.ClaimsFrom otherwise.
func (v *Verifier) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("X-Auth-Token")
		if tok == "" {
			osapi.WriteError(w, r, osapi.Errorf(http.StatusUnauthorized, "The request you have made requires authentication."))
			return
		}
		c, err := v.Verify(tok)
		if err != nil {
			osapi.WriteError(w, r, osapi.Errorf(http.StatusUnauthorized, "The request you have made requires authentication: %v.", err))
			return
		}
		next.ServeHTTP(w, r.WithContext(policy.WithClaims(r.Context(), c)))
	})
}

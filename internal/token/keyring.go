package token

import (
	"crypto/ed25519"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Keyring holds the public keys a service trusts and, in identity, the
// private key it signs with. It caches verified tokens: clients reuse one
// token for many calls, and a cache hit skips the Ed25519 verification
// (about 40 µs) while still checking expiry. It is safe for concurrent use.
type Keyring struct {
	mu      sync.RWMutex
	public  map[uint32]ed25519.PublicKey
	signID  uint32
	signKey ed25519.PrivateKey

	cache     sync.Map // token string -> Claims
	cacheSize atomic.Int64
	now       func() time.Time
}

// maxCached bounds the verified-token cache; when full it starts over.
const maxCached = 100_000

// NewKeyring returns an empty keyring using now as its clock (nil: time.Now).
func NewKeyring(now func() time.Time) *Keyring {
	if now == nil {
		now = time.Now
	}
	return &Keyring{public: map[uint32]ed25519.PublicKey{}, now: now}
}

// SetKeys replaces the trusted public keys. Tokens cached under a key that
// is no longer trusted are dropped.
func (k *Keyring) SetKeys(public map[uint32]ed25519.PublicKey) {
	k.mu.Lock()
	dropped := false
	for id := range k.public {
		if _, ok := public[id]; !ok {
			dropped = true
		}
	}
	k.public = public
	k.mu.Unlock()
	if dropped {
		k.cache.Clear()
		k.cacheSize.Store(0)
	}
}

// PublicKeys returns a copy of the trusted public keys by id.
func (k *Keyring) PublicKeys() map[uint32]ed25519.PublicKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	out := make(map[uint32]ed25519.PublicKey, len(k.public))
	for id, pub := range k.public {
		out[id] = pub
	}
	return out
}

// SetSigningKey selects the key new tokens are signed with. Its public half
// is trusted from now on.
func (k *Keyring) SetSigningKey(id uint32, priv ed25519.PrivateKey) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.signID, k.signKey = id, priv
	k.public[id] = priv.Public().(ed25519.PublicKey)
}

// Issue signs claims with the current signing key.
func (k *Keyring) Issue(c Claims) (string, error) {
	k.mu.RLock()
	id, priv := k.signID, k.signKey
	k.mu.RUnlock()
	if priv == nil {
		return "", errors.New("no token signing key loaded")
	}
	return Sign(c, id, priv)
}

// Verify checks tok's signature against the trusted keys and its expiry,
// and returns its claims. It does not know about revocations.
func (k *Keyring) Verify(tok string) (Claims, error) {
	if v, ok := k.cache.Load(tok); ok {
		c := v.(Claims)
		if !k.now().Before(c.ExpiresAt) {
			return Claims{}, ErrExpired
		}
		return c, nil
	}
	if len(tok) > maxTokenLen {
		return Claims{}, ErrMalformed
	}
	raw, err := b64.DecodeString(tok)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	keyID, err := KeyID(raw)
	if err != nil {
		return Claims{}, err
	}
	k.mu.RLock()
	pub := k.public[keyID]
	k.mu.RUnlock()
	if pub == nil {
		return Claims{}, ErrBadKey
	}
	c, err := parse(raw, pub)
	if err != nil {
		return Claims{}, err
	}
	if !k.now().Before(c.ExpiresAt) {
		return Claims{}, ErrExpired
	}
	if k.cacheSize.Add(1) > maxCached {
		k.cache.Clear()
		k.cacheSize.Store(1)
	}
	k.cache.Store(tok, c)
	return c, nil
}

// maxTokenLen is the longest token Sign produces, in characters.
const maxTokenLen = ((fixedLen+idLen+ed25519.SignatureSize)*4 + 2) / 3

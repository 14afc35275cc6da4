// Package token owns the Stratus token format: compact, Ed25519-signed
// claims that any Stratus service verifies with public keys alone, with no
// call back to identity. Tokens stay under Keystone's 250-byte Fernet bound;
// the key id inside each token lets keys rotate without invalidating tokens
// signed by older keys that are still trusted.
package token

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Roles is the set of well-known roles a token carries, already expanded
// through the implied-role chain admin => member => reader.
type Roles uint8

// The well-known roles. Custom roles are not carried in tokens; identity
// reports them when it validates a token.
const (
	RoleAdmin Roles = 1 << iota
	RoleMember
	RoleReader
	RoleService
)

// Has reports whether every role in want is present.
func (r Roles) Has(want Roles) bool { return r&want == want }

// Methods records how the token was obtained.
type Methods uint8

// Authentication methods, as Keystone names them.
const (
	MethodPassword Methods = 1 << iota
	MethodToken
	MethodApplicationCredential
)

// Names lists the methods in Keystone's spelling.
func (m Methods) Names() []string {
	var out []string
	for _, x := range []struct {
		bit  Methods
		name string
	}{{MethodPassword, "password"}, {MethodToken, "token"}, {MethodApplicationCredential, "application_credential"}} {
		if m&x.bit != 0 {
			out = append(out, x.name)
		}
	}
	return out
}

// Claims is what a token asserts. IDs are 32-hex-digit Keystone-style ids;
// ProjectID is empty for an unscoped token. IssuedAt has microsecond
// precision, so a revocation at time T spares tokens issued just after it;
// the lifetime is a whole number of seconds.
type Claims struct {
	UserID       string
	ProjectID    string
	Roles        Roles
	Methods      Methods
	AppCredID    string // set when issued for an application credential
	Unrestricted bool   // the application credential may manage credentials
	IssuedAt     time.Time
	ExpiresAt    time.Time
	AuditID      string // this token
	AuditChainID string // the token this one was rescoped or renewed from, else AuditID
}

const (
	formatVersion  = 1
	flagScoped     = 1 << 0
	flagAppCred    = 1 << 1
	flagUnrestrict = 1 << 2
	idLen          = 16
	// version, key id, flags, roles, methods, issued (unix µs), lifetime (s), user, project, audit, chain
	fixedLen = 1 + 4 + 1 + 1 + 1 + 8 + 4 + 4*idLen
)

// Errors a verifier returns; none says more than "this token is no good".
var (
	ErrMalformed  = errors.New("token is malformed")
	ErrBadKey     = errors.New("token was signed by an unknown key")
	ErrBadSig     = errors.New("token signature is invalid")
	ErrExpired    = errors.New("token has expired")
	errIDNotHex32 = errors.New("id is not 32 hex digits")
)

var b64 = base64.RawURLEncoding

// Sign encodes claims and signs them with key number keyID.
func Sign(c Claims, keyID uint32, priv ed25519.PrivateKey) (string, error) {
	buf := make([]byte, fixedLen, fixedLen+idLen+ed25519.SignatureSize)
	buf[0] = formatVersion
	binary.BigEndian.PutUint32(buf[1:], keyID)
	var flags byte
	if c.ProjectID != "" {
		flags |= flagScoped
	}
	if c.AppCredID != "" {
		flags |= flagAppCred
	}
	if c.Unrestricted {
		flags |= flagUnrestrict
	}
	buf[5], buf[6], buf[7] = flags, byte(c.Roles), byte(c.Methods)
	binary.BigEndian.PutUint64(buf[8:], uint64(c.IssuedAt.UnixMicro()))
	lifetime := c.ExpiresAt.Sub(c.IssuedAt) / time.Second
	if lifetime <= 0 || lifetime > 1<<31 || !c.IssuedAt.Add(lifetime*time.Second).Equal(c.ExpiresAt) {
		return "", fmt.Errorf("token lifetime %v out of range", lifetime)
	}
	binary.BigEndian.PutUint32(buf[16:], uint32(lifetime))
	for i, id := range []string{c.UserID, c.ProjectID, c.AuditID, c.AuditChainID} {
		if id == "" && i == 1 {
			continue // unscoped: zero bytes
		}
		if err := putID(buf[20+i*idLen:20+(i+1)*idLen], id); err != nil {
			return "", fmt.Errorf("encoding token: %w", err)
		}
	}
	if c.AppCredID != "" {
		var id [idLen]byte
		if err := putID(id[:], c.AppCredID); err != nil {
			return "", fmt.Errorf("encoding token: %w", err)
		}
		buf = append(buf, id[:]...)
	}
	buf = append(buf, ed25519.Sign(priv, buf)...)
	return b64.EncodeToString(buf), nil
}

// KeyID reads which key signed tok, before any verification.
func KeyID(raw []byte) (uint32, error) {
	if len(raw) < fixedLen+ed25519.SignatureSize || raw[0] != formatVersion {
		return 0, ErrMalformed
	}
	return binary.BigEndian.Uint32(raw[1:]), nil
}

// parse verifies the signature of raw with pub and decodes the claims. The
// caller checks expiry.
func parse(raw []byte, pub ed25519.PublicKey) (Claims, error) {
	body, sig := raw[:len(raw)-ed25519.SignatureSize], raw[len(raw)-ed25519.SignatureSize:]
	flags := body[5]
	want := fixedLen
	if flags&flagAppCred != 0 {
		want += idLen
	}
	if len(body) != want {
		return Claims{}, ErrMalformed
	}
	if !ed25519.Verify(pub, body, sig) {
		return Claims{}, ErrBadSig
	}
	issued := time.UnixMicro(int64(binary.BigEndian.Uint64(body[8:]))).UTC()
	c := Claims{
		Roles:        Roles(body[6]),
		Methods:      Methods(body[7]),
		Unrestricted: flags&flagUnrestrict != 0,
		IssuedAt:     issued,
		ExpiresAt:    issued.Add(time.Duration(binary.BigEndian.Uint32(body[16:])) * time.Second),
		UserID:       hex.EncodeToString(body[20:36]),
		AuditID:      hex.EncodeToString(body[52:68]),
		AuditChainID: hex.EncodeToString(body[68:84]),
	}
	if flags&flagScoped != 0 {
		c.ProjectID = hex.EncodeToString(body[36:52])
	}
	if flags&flagAppCred != 0 {
		c.AppCredID = hex.EncodeToString(body[84:100])
	}
	return c, nil
}

func putID(dst []byte, id string) error {
	if len(id) != 2*idLen {
		return fmt.Errorf("%q: %w", id, errIDNotHex32)
	}
	if _, err := hex.Decode(dst, []byte(id)); err != nil {
		return fmt.Errorf("%q: %w", id, errIDNotHex32)
	}
	return nil
}

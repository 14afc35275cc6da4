package compute

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/ssh"

	"github.com/stratus-cloud/stratus/internal/osapi"
	"github.com/stratus-cloud/stratus/internal/policy"
	"github.com/stratus-cloud/stratus/internal/token"
)

// Keypair is an SSH public key a user registered under a name, to be
// injected into the servers they boot.
type Keypair struct {
	UserID      string
	Name        string
	Type        string // "ssh"
	PublicKey   string
	Fingerprint string // MD5 of the key blob, colon-separated hex, as Nova
	PrivateKey  string // only right after generation; never stored
	CreatedAt   time.Time
}

// generatedKeyBits is the RSA size Nova used when it still generated keys.
const generatedKeyBits = 2048

// acceptedKeyTypes are the public key algorithms keypairs may hold.
var acceptedKeyTypes = map[string]bool{
	ssh.KeyAlgoRSA: true, ssh.KeyAlgoED25519: true,
	ssh.KeyAlgoECDSA256: true, ssh.KeyAlgoECDSA384: true, ssh.KeyAlgoECDSA521: true,
}

func keypairNotFound(userID, name string) error {
	return osapi.Errorf(http.StatusNotFound, "Keypair %s not found for user %s", name, userID)
}

// KeypairOwner returns whose keypairs a request addresses: the caller's
// own, or with an admin token those of userID. It is the policy check for
// ListKeypairs, GetKeypair, CreateKeypair and DeleteKeypair, which take
// the user it returns.
func KeypairOwner(c *token.Claims, userID string) (string, error) {
	if err := policy.Authorize(c, policy.Read, "", "keypairs"); err != nil {
		return "", err
	}
	if userID == "" || userID == c.UserID {
		return c.UserID, nil
	}
	if err := policy.Authorize(c, policy.Admin, "", "other users' keypairs"); err != nil {
		return "", err
	}
	return userID, nil
}

const keypairCols = "user_id, name, type, public_key, fingerprint, created_at"

func scanKeypair(row pgx.CollectableRow) (Keypair, error) {
	var k Keypair
	err := row.Scan(&k.UserID, &k.Name, &k.Type, &k.PublicKey, &k.Fingerprint, &k.CreatedAt)
	return k, err
}

// ListKeypairs returns a user's keypairs by name.
func (s *Service) ListKeypairs(ctx context.Context, userID string) ([]Keypair, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+keypairCols+" FROM keypairs WHERE user_id = $1 ORDER BY name", userID)
	return pgx.CollectRows(rows, scanKeypair)
}

// GetKeypair returns a user's keypair by name.
func (s *Service) GetKeypair(ctx context.Context, userID, name string) (Keypair, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+keypairCols+" FROM keypairs WHERE user_id = $1 AND name = $2", userID, name)
	k, err := pgx.CollectExactlyOneRow(rows, scanKeypair)
	if errors.Is(err, pgx.ErrNoRows) {
		return Keypair{}, keypairNotFound(userID, name)
	}
	return k, err
}

// validKeypairName is Nova's rule: letters, digits, spaces, _ and -.
func validKeypairName(name string) error {
	ok := name != "" && len(name) <= 255
	for _, r := range name {
		ok = ok && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ' || r == '_' || r == '-')
	}
	if !ok {
		return osapi.Errorf(http.StatusBadRequest, "Keypair data is invalid: Keypair name must be 1 to 255 letters, digits, spaces, underscores or hyphens.")
	}
	return nil
}

// CreateKeypair stores a keypair for userID, counted against key_pairs of
// c's project. Without publicKey it generates an RSA key and returns the
// private half in the result, once; Stratus does not keep it.
func (s *Service) CreateKeypair(ctx context.Context, c *token.Claims, userID, name, publicKey string) (Keypair, error) {
	if err := validKeypairName(name); err != nil {
		return Keypair{}, err
	}
	k := Keypair{UserID: userID, Name: name, Type: "ssh", PublicKey: strings.TrimSpace(publicKey)}
	var err error
	if k.PublicKey == "" {
		k.PublicKey, k.PrivateKey, err = generateKeypair()
		if err != nil {
			return Keypair{}, err
		}
	}
	if k.Fingerprint, err = fingerprint(k.PublicKey); err != nil {
		return Keypair{}, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// key_pairs is a per-user count against the project's limit, as in Nova.
		err := s.Quotas.Reserve(ctx, tx, c.ProjectID, "key_pairs", 1, func(ctx context.Context, tx pgx.Tx) (n int64, err error) {
			err = tx.QueryRow(ctx, "SELECT count(*) FROM keypairs WHERE user_id = $1", userID).Scan(&n)
			return n, err
		})
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO keypairs (user_id, name, type, public_key, fingerprint)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING created_at`,
			k.UserID, k.Name, k.Type, k.PublicKey, k.Fingerprint).Scan(&k.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return osapi.Errorf(http.StatusConflict, "Key pair '%s' already exists.", name)
		}
		return err
	})
	if err != nil {
		return Keypair{}, overQuota(err)
	}
	return k, nil
}

// DeleteKeypair removes a user's keypair. Servers booted with it keep the
// key they were given.
func (s *Service) DeleteKeypair(ctx context.Context, userID, name string) error {
	tag, err := s.pool.Exec(ctx, "DELETE FROM keypairs WHERE user_id = $1 AND name = $2", userID, name)
	if err == nil && tag.RowsAffected() == 0 {
		err = keypairNotFound(userID, name)
	}
	return err
}

// fingerprint checks an OpenSSH public key line and returns Nova's
// fingerprint of it.
func fingerprint(publicKey string) (string, error) {
	// One bare key: authorized_keys options would reach the guest's
	// authorized_keys file through the config drive.
	pub, _, options, rest, err := ssh.ParseAuthorizedKey([]byte(publicKey))
	if err != nil || len(options) > 0 || len(strings.TrimSpace(string(rest))) > 0 {
		return "", osapi.Errorf(http.StatusBadRequest, "Keypair data is invalid: failed to generate fingerprint")
	}
	if !acceptedKeyTypes[pub.Type()] {
		return "", osapi.Errorf(http.StatusBadRequest, "Keypair data is invalid: key type %s is not supported; use ssh-rsa, ssh-ed25519 or ecdsa-sha2-*", pub.Type())
	}
	return ssh.FingerprintLegacyMD5(pub), nil
}

// generateKeypair returns a new RSA key as an OpenSSH public key line and
// a PKCS #1 PEM private key, the formats Nova returned.
func generateKeypair() (public, private string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, generatedKeyBits)
	if err != nil {
		return "", "", err
	}
	pub, err := ssh.NewPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", err
	}
	public = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + " Generated-by-Stratus"
	private = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	return public, private, nil
}

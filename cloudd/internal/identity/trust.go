package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/authn"
	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/loop"
)

// TrustLoop keeps signing keys rotated and this replica's keys and
// revocation events in step with the database.
func (s *Service) TrustLoop() *loop.Loop {
	return &loop.Loop{Name: "identity-trust", Interval: s.cfg.SyncInterval, RunOnce: s.SyncTrust}
}

// SyncTrust rotates the signing key when it is due, prunes keys and
// revocations no live token can need, and loads the rest into the keyring
// and the verifier. Replicas coordinate through an advisory lock, so only
// one of them creates a new key.
//
// A new key is trusted at once but signs only after KeyStaging, by which
// time every replica has loaded it; otherwise a token signed by a fresh key
// could be refused by a replica that has not seen it yet.
func (s *Service) SyncTrust(ctx context.Context) error {
	now := s.cfg.Now()
	keepFor := s.cfg.KeyRotation + s.cfg.KeyStaging + s.cfg.TokenTTL
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1)", db.LockKey("identity-keys")).Scan(&locked); err != nil || !locked {
			return err
		}
		var due bool
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(created_at), '-infinity') < $1 FROM token_keys",
			now.Add(-s.cfg.KeyRotation)).Scan(&due); err != nil {
			return err
		}
		if due {
			_, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO token_keys (private_key, created_at) VALUES ($1, $2)", priv.Seed(), now); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM token_keys WHERE created_at < $1
			AND id NOT IN (SELECT id FROM token_keys ORDER BY id DESC LIMIT 2)`, now.Add(-keepFor)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM revocations WHERE issued_before < $1", now.Add(-s.cfg.TokenTTL))
		return err
	})
	if err != nil {
		return fmt.Errorf("rotating token keys: %w", err)
	}
	if err := s.loadKeys(ctx); err != nil {
		return err
	}
	return s.loadRevocations(ctx)
}

func (s *Service) loadKeys(ctx context.Context) error {
	rows, _ := s.pool.Query(ctx, "SELECT id, private_key, created_at FROM token_keys ORDER BY id")
	public := map[uint32]ed25519.PublicKey{}
	var signID uint32
	var signKey ed25519.PrivateKey
	staged := s.cfg.Now().Add(-s.cfg.KeyStaging)
	var id int32
	var seed []byte
	var created time.Time
	_, err := pgx.ForEachRow(rows, []any{&id, &seed, &created}, func() error {
		priv := ed25519.NewKeyFromSeed(seed)
		public[uint32(id)] = priv.Public().(ed25519.PublicKey)
		// The newest staged key signs; on a fresh cloud the only key does.
		if signKey == nil || !created.After(staged) {
			signID, signKey = uint32(id), priv
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("loading token keys: %w", err)
	}
	if signKey == nil {
		return fmt.Errorf("no token signing key in the database")
	}
	s.Keys.SetKeys(public)
	s.Keys.SetSigningKey(signID, signKey)
	return nil
}

func (s *Service) loadRevocations(ctx context.Context) error {
	events, err := s.Revocations(ctx)
	if err != nil {
		return fmt.Errorf("loading revocations: %w", err)
	}
	s.Verifier.SetRevocations(events)
	return nil
}

// Revocations lists the revocation events that can still matter, for
// services that verify tokens themselves (GET /v3/OS-REVOKE/events).
func (s *Service) Revocations(ctx context.Context) ([]authn.Revocation, error) {
	rows, _ := s.pool.Query(ctx, `SELECT audit_id, audit_chain_id, user_id, project_id, app_cred_id, issued_before
		FROM revocations WHERE issued_before >= $1 ORDER BY id`, s.cfg.Now().Add(-s.cfg.TokenTTL))
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (authn.Revocation, error) {
		var r authn.Revocation
		err := row.Scan(&r.AuditID, &r.AuditChainID, &r.UserID, &r.ProjectID, &r.AppCredID, &r.IssuedBefore)
		return r, err
	})
}

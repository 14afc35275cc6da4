package identity

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/authn"
	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

func scanRole(row pgx.CollectableRow) (Role, error) {
	var r Role
	err := row.Scan(&r.ID, &r.Name, &r.Description)
	return r, err
}

// CreateRole stores a new role.
func (s *Service) CreateRole(ctx context.Context, r Role) (Role, error) {
	if err := requireName("role", r.Name); err != nil {
		return Role{}, err
	}
	if r.ID == "" {
		r.ID = NewID()
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO roles (id, name, description) VALUES ($1, $2, $3)", r.ID, r.Name, r.Description)
	return r, db.Interpret(err, "role")
}

// GetRole finds a role by id.
func (s *Service) GetRole(ctx context.Context, id string) (Role, error) {
	rows, _ := s.pool.Query(ctx, "SELECT id, name, description FROM roles WHERE id = $1", id)
	r, err := pgx.CollectExactlyOneRow(rows, scanRole)
	return r, db.Interpret(err, "role: "+id)
}

// ListRoles returns roles ordered by name, optionally by exact name.
func (s *Service) ListRoles(ctx context.Context, name string) ([]Role, error) {
	rows, _ := s.pool.Query(ctx, "SELECT id, name, description FROM roles WHERE $1 = '' OR name = $1 ORDER BY name", name)
	return pgx.CollectRows(rows, scanRole)
}

// UpdateRole renames or re-describes a role.
func (s *Service) UpdateRole(ctx context.Context, id string, name, description *string) (Role, error) {
	if name != nil {
		if err := requireName("role", *name); err != nil {
			return Role{}, err
		}
	}
	rows, _ := s.pool.Query(ctx, `UPDATE roles SET name = coalesce($2, name), description = coalesce($3, description)
		WHERE id = $1 RETURNING id, name, description`, id, name, description)
	r, err := pgx.CollectExactlyOneRow(rows, scanRole)
	return r, db.Interpret(err, "role: "+id)
}

// DeleteRole removes a role and its assignments; tokens that carried it
// are revoked.
func (s *Service) DeleteRole(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx pgx.Tx, rev *revocations) error {
		if err := s.revokeHoldersOf(ctx, tx, rev, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM roles WHERE id = $1", id)
		if err != nil {
			return db.Interpret(err, "role: "+id)
		}
		if tag.RowsAffected() == 0 {
			return osapi.Errorf(404, "Could not find role: %s.", id)
		}
		return nil
	})
}

// revokeHoldersOf revokes the tokens of everyone assigned role directly:
// their effective roles are about to change.
func (s *Service) revokeHoldersOf(ctx context.Context, tx pgx.Tx, rev *revocations, roleID string) error {
	rows, _ := tx.Query(ctx, "SELECT DISTINCT user_id, project_id FROM role_assignments WHERE role_id = $1", roleID)
	var events []authn.Revocation
	var user, project string
	now := s.cfg.Now()
	if _, err := pgx.ForEachRow(rows, []any{&user, &project}, func() error {
		events = append(events, authn.Revocation{UserID: user, ProjectID: project, IssuedBefore: now})
		return nil
	}); err != nil {
		return err
	}
	for _, e := range events {
		if err := rev.add(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

// AddImpliedRole makes prior imply implied. Cycles are refused.
func (s *Service) AddImpliedRole(ctx context.Context, prior, implied string) error {
	return s.inTx(ctx, func(tx pgx.Tx, rev *revocations) error {
		for _, id := range []string{prior, implied} {
			if err := tx.QueryRow(ctx, "SELECT id FROM roles WHERE id = $1", id).Scan(new(string)); err != nil {
				return db.Interpret(err, "role: "+id)
			}
		}
		var cycle bool
		if err := tx.QueryRow(ctx, `WITH RECURSIVE down(id) AS (
				SELECT $1::text UNION SELECT ir.implied_role_id FROM implied_roles ir JOIN down ON ir.prior_role_id = down.id)
			SELECT EXISTS (SELECT 1 FROM down WHERE id = $2)`, implied, prior).Scan(&cycle); err != nil {
			return err
		}
		if cycle {
			return osapi.Errorf(400, "Role %s already implies role %s; the implication would form a cycle.", implied, prior)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO implied_roles VALUES ($1, $2) ON CONFLICT DO NOTHING", prior, implied); err != nil {
			return err
		}
		return s.revokeHoldersOf(ctx, tx, rev, prior)
	})
}

// RemoveImpliedRole removes an implication.
func (s *Service) RemoveImpliedRole(ctx context.Context, prior, implied string) error {
	return s.inTx(ctx, func(tx pgx.Tx, rev *revocations) error {
		tag, err := tx.Exec(ctx, "DELETE FROM implied_roles WHERE prior_role_id = $1 AND implied_role_id = $2", prior, implied)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return osapi.Errorf(404, "Could not find implied role: %s implies %s.", prior, implied)
		}
		return s.revokeHoldersOf(ctx, tx, rev, prior)
	})
}

// ImpliedRoles lists direct implications, prior -> implied roles; prior ""
// lists all of them.
func (s *Service) ImpliedRoles(ctx context.Context, prior string) (map[Role][]Role, error) {
	rows, _ := s.pool.Query(ctx, `SELECT p.id, p.name, p.description, i.id, i.name, i.description
		FROM implied_roles ir JOIN roles p ON p.id = ir.prior_role_id JOIN roles i ON i.id = ir.implied_role_id
		WHERE $1 = '' OR p.id = $1 ORDER BY p.name, i.name`, prior)
	out := map[Role][]Role{}
	var p, i Role
	_, err := pgx.ForEachRow(rows, []any{&p.ID, &p.Name, &p.Description, &i.ID, &i.Name, &i.Description}, func() error {
		out[p] = append(out[p], i)
		return nil
	})
	return out, err
}

// ---- assignments

// Grant assigns role to user on project; granting twice is not an error.
func (s *Service) Grant(ctx context.Context, projectID, userID, roleID string) error {
	if err := s.assignmentParts(ctx, s.pool, projectID, userID, roleID); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO role_assignments VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", userID, projectID, roleID)
	return db.Interpret(err, "role assignment")
}

// Ungrant removes an assignment and revokes the user's tokens for project.
func (s *Service) Ungrant(ctx context.Context, projectID, userID, roleID string) error {
	if err := s.assignmentParts(ctx, s.pool, projectID, userID, roleID); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx, rev *revocations) error {
		tag, err := tx.Exec(ctx, "DELETE FROM role_assignments WHERE user_id = $1 AND project_id = $2 AND role_id = $3", userID, projectID, roleID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return osapi.Errorf(404, "Could not find role assignment with role: %s, user or group: %s, project, domain, or system: %s.", roleID, userID, projectID)
		}
		return rev.add(ctx, tx, authn.Revocation{UserID: userID, ProjectID: projectID, IssuedBefore: s.cfg.Now()})
	})
}

// CheckGrant reports (as a nil error) that the direct assignment exists.
func (s *Service) CheckGrant(ctx context.Context, projectID, userID, roleID string) error {
	if err := s.assignmentParts(ctx, s.pool, projectID, userID, roleID); err != nil {
		return err
	}
	err := s.pool.QueryRow(ctx, "SELECT true FROM role_assignments WHERE user_id = $1 AND project_id = $2 AND role_id = $3",
		userID, projectID, roleID).Scan(new(bool))
	return db.Interpret(err, "role assignment")
}

// assignmentParts checks that the three parts exist, naming the missing one.
func (s *Service) assignmentParts(ctx context.Context, q db.Querier, projectID, userID, roleID string) error {
	for _, part := range []struct{ table, kind, id string }{
		{"projects", "project", projectID}, {"users", "user", userID}, {"roles", "role", roleID},
	} {
		if err := q.QueryRow(ctx, "SELECT id FROM "+part.table+" WHERE id = $1", part.id).Scan(new(string)); err != nil {
			return db.Interpret(err, part.kind+": "+part.id)
		}
	}
	return nil
}

// ListAssignments lists assignments with names, ordered by project, user
// and role name. Effective listings expand implied roles.
func (s *Service) ListAssignments(ctx context.Context, f AssignmentFilter) ([]Assignment, error) {
	rows, _ := s.pool.Query(ctx, `WITH RECURSIVE eff(user_id, project_id, role_id, implied_by) AS (
			SELECT user_id, project_id, role_id, ''::text FROM role_assignments
			 WHERE ($1 = '' OR user_id = $1) AND ($2 = '' OR project_id = $2)
			UNION
			SELECT eff.user_id, eff.project_id, ir.implied_role_id, CASE WHEN eff.implied_by = '' THEN eff.role_id ELSE eff.implied_by END
			  FROM eff JOIN implied_roles ir ON ir.prior_role_id = eff.role_id WHERE $4)
		SELECT DISTINCT ON (p.name, u.name, r.name) u.id, u.name, p.id, p.name, r.id, r.name, eff.implied_by
		  FROM eff JOIN users u ON u.id = eff.user_id JOIN projects p ON p.id = eff.project_id JOIN roles r ON r.id = eff.role_id
		 WHERE $3 = '' OR eff.role_id = $3
		 ORDER BY p.name, u.name, r.name, eff.implied_by`, f.UserID, f.ProjectID, f.RoleID, f.Effective)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Assignment, error) {
		var a Assignment
		err := row.Scan(&a.UserID, &a.UserName, &a.ProjectID, &a.ProjectName, &a.RoleID, &a.RoleName, &a.ImpliedBy)
		return a, err
	})
}

// EffectiveRoles are the roles user holds on project, implied ones included.
func (s *Service) EffectiveRoles(ctx context.Context, q db.Querier, userID, projectID string) ([]Role, error) {
	rows, _ := q.Query(ctx, `WITH RECURSIVE eff(role_id) AS (
			SELECT role_id FROM role_assignments WHERE user_id = $1 AND project_id = $2
			UNION SELECT ir.implied_role_id FROM implied_roles ir JOIN eff ON ir.prior_role_id = eff.role_id)
		SELECT r.id, r.name, r.description FROM roles r JOIN eff ON r.id = eff.role_id ORDER BY r.name`, userID, projectID)
	return pgx.CollectRows(rows, scanRole)
}

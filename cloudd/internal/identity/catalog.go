package identity

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/stratus-cloud/stratus/internal/db"
	"github.com/stratus-cloud/stratus/internal/osapi"
)

// Interfaces are the endpoint interfaces Keystone knows.
var Interfaces = []string{"public", "internal", "admin"}

func scanService(row pgx.CollectableRow) (CatalogService, error) {
	var c CatalogService
	err := row.Scan(&c.ID, &c.Type, &c.Name, &c.Description, &c.Enabled)
	return c, err
}

func scanEndpoint(row pgx.CollectableRow) (Endpoint, error) {
	var e Endpoint
	err := row.Scan(&e.ID, &e.ServiceID, &e.Interface, &e.RegionID, &e.URL, &e.Enabled)
	return e, err
}

// CreateService adds a catalog service.
func (s *Service) CreateService(ctx context.Context, c CatalogService) (CatalogService, error) {
	if c.Type == "" {
		return CatalogService{}, osapi.Errorf(400, "Invalid input for field 'type': a service type is required.")
	}
	if c.ID == "" {
		c.ID = NewID()
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO services (id, type, name, description, enabled) VALUES ($1, $2, $3, $4, $5)",
		c.ID, c.Type, c.Name, c.Description, c.Enabled)
	return c, db.Interpret(err, "service")
}

// GetService returns a catalog service.
func (s *Service) GetService(ctx context.Context, id string) (CatalogService, error) {
	rows, _ := s.pool.Query(ctx, "SELECT id, type, name, description, enabled FROM services WHERE id = $1", id)
	c, err := pgx.CollectExactlyOneRow(rows, scanService)
	return c, db.Interpret(err, "service: "+id)
}

// ListServices lists catalog services, optionally of one type or name.
func (s *Service) ListServices(ctx context.Context, typ, name string) ([]CatalogService, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, type, name, description, enabled FROM services
		WHERE ($1 = '' OR type = $1) AND ($2 = '' OR name = $2) ORDER BY type, name`, typ, name)
	return pgx.CollectRows(rows, scanService)
}

// UpdateService changes a catalog service.
func (s *Service) UpdateService(ctx context.Context, id string, typ, name, description *string, enabled *bool) (CatalogService, error) {
	rows, _ := s.pool.Query(ctx, `UPDATE services SET type = coalesce($2, type), name = coalesce($3, name),
		description = coalesce($4, description), enabled = coalesce($5, enabled)
		WHERE id = $1 RETURNING id, type, name, description, enabled`, id, typ, name, description, enabled)
	c, err := pgx.CollectExactlyOneRow(rows, scanService)
	return c, db.Interpret(err, "service: "+id)
}

// DeleteService removes a service and its endpoints.
func (s *Service) DeleteService(ctx context.Context, id string) error {
	return deleteByID(ctx, s.pool, "services", "service", id)
}

func deleteByID(ctx context.Context, q db.Querier, table, kind, id string) error {
	tag, err := q.Exec(ctx, "DELETE FROM "+table+" WHERE id = $1", id)
	if err != nil {
		return db.Interpret(err, kind+": "+id)
	}
	if tag.RowsAffected() == 0 {
		return osapi.Errorf(404, "Could not find %s: %s.", kind, id)
	}
	return nil
}

func checkEndpoint(e Endpoint) error {
	if !slices.Contains(Interfaces, e.Interface) {
		return osapi.Errorf(400, "Invalid input for field 'interface': %q is not one of public, internal, admin.", e.Interface)
	}
	if e.URL == "" {
		return osapi.Errorf(400, "Invalid input for field 'url': an endpoint URL is required.")
	}
	return nil
}

// CreateEndpoint adds an endpoint to a service.
func (s *Service) CreateEndpoint(ctx context.Context, e Endpoint) (Endpoint, error) {
	if e.RegionID == "" {
		e.RegionID = DefaultRegion
	}
	if err := checkEndpoint(e); err != nil {
		return Endpoint{}, err
	}
	if _, err := s.GetService(ctx, e.ServiceID); err != nil {
		return Endpoint{}, osapi.Errorf(400, "Invalid input for field 'service_id': no service %s.", e.ServiceID)
	}
	if e.ID == "" {
		e.ID = NewID()
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO endpoints (id, service_id, interface, region_id, url, enabled) VALUES ($1, $2, $3, $4, $5, $6)",
		e.ID, e.ServiceID, e.Interface, e.RegionID, e.URL, e.Enabled)
	return e, db.Interpret(err, "endpoint")
}

// DefaultRegion is the region endpoints are in unless told otherwise.
const DefaultRegion = "RegionOne"

const endpointCols = "id, service_id, interface, region_id, url, enabled"

// GetEndpoint returns one endpoint.
func (s *Service) GetEndpoint(ctx context.Context, id string) (Endpoint, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+endpointCols+" FROM endpoints WHERE id = $1", id)
	e, err := pgx.CollectExactlyOneRow(rows, scanEndpoint)
	return e, db.Interpret(err, "endpoint: "+id)
}

// ListEndpoints lists endpoints, optionally of one service, interface or region.
func (s *Service) ListEndpoints(ctx context.Context, serviceID, iface, region string) ([]Endpoint, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+endpointCols+` FROM endpoints
		WHERE ($1 = '' OR service_id = $1) AND ($2 = '' OR interface = $2) AND ($3 = '' OR region_id = $3)
		ORDER BY service_id, interface`, serviceID, iface, region)
	return pgx.CollectRows(rows, scanEndpoint)
}

// UpdateEndpoint changes an endpoint.
func (s *Service) UpdateEndpoint(ctx context.Context, id string, patch Endpoint, enabled *bool) (Endpoint, error) {
	e, err := s.GetEndpoint(ctx, id)
	if err != nil {
		return Endpoint{}, err
	}
	for dst, v := range map[*string]string{&e.ServiceID: patch.ServiceID, &e.Interface: patch.Interface, &e.RegionID: patch.RegionID, &e.URL: patch.URL} {
		if v != "" {
			*dst = v
		}
	}
	if enabled != nil {
		e.Enabled = *enabled
	}
	if err := checkEndpoint(e); err != nil {
		return Endpoint{}, err
	}
	_, err = s.pool.Exec(ctx, "UPDATE endpoints SET service_id = $2, interface = $3, region_id = $4, url = $5, enabled = $6 WHERE id = $1",
		e.ID, e.ServiceID, e.Interface, e.RegionID, e.URL, e.Enabled)
	return e, db.Interpret(err, "endpoint: "+id)
}

// DeleteEndpoint removes an endpoint.
func (s *Service) DeleteEndpoint(ctx context.Context, id string) error {
	return deleteByID(ctx, s.pool, "endpoints", "endpoint", id)
}

// Catalog returns the enabled services with their enabled endpoints.
func (s *Service) Catalog(ctx context.Context) ([]CatalogService, error) {
	services, err := s.ListServices(ctx, "", "")
	if err != nil {
		return nil, err
	}
	endpoints, err := s.ListEndpoints(ctx, "", "", "")
	if err != nil {
		return nil, err
	}
	byService := map[string][]Endpoint{}
	for _, e := range endpoints {
		if e.Enabled {
			byService[e.ServiceID] = append(byService[e.ServiceID], e)
		}
	}
	out := services[:0]
	for _, svc := range services {
		if svc.Enabled {
			svc.Endpoints = byService[svc.ID]
			out = append(out, svc)
		}
	}
	return out, nil
}

// RegisterService makes the catalog list a service of type typ named name
// at url on all three interfaces, creating or correcting it. Services call
// it at every start, so a changed address is picked up.
func (s *Service) RegisterService(ctx context.Context, typ, name, description, url string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", db.LockKey("catalog:"+typ)); err != nil {
			return err
		}
		var id string
		err := tx.QueryRow(ctx, "SELECT id FROM services WHERE type = $1 ORDER BY id LIMIT 1", typ).Scan(&id)
		if err == pgx.ErrNoRows {
			id = NewID()
			_, err = tx.Exec(ctx, "INSERT INTO services (id, type, name, description) VALUES ($1, $2, $3, $4)", id, typ, name, description)
		}
		if err != nil {
			return err
		}
		for _, iface := range Interfaces {
			tag, err := tx.Exec(ctx, "UPDATE endpoints SET url = $3 WHERE service_id = $1 AND interface = $2 AND region_id = $4",
				id, iface, url, DefaultRegion)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				if _, err := tx.Exec(ctx, "INSERT INTO endpoints (id, service_id, interface, region_id, url) VALUES ($1, $2, $3, $4, $5)",
					NewID(), id, iface, DefaultRegion, url); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

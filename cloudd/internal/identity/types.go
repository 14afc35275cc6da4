package identity

import (
	"time"

	"github.com/stratus-cloud/stratus/internal/token"
)

// DefaultDomainID and DefaultDomainName name the one domain.
const (
	DefaultDomainID   = "default"
	DefaultDomainName = "Default"
)

// Project is a tenant.
type Project struct {
	ID          string
	Name        string
	Description string
	Enabled     bool
	Tags        []string
}

// ProjectPatch holds the fields an update changes; nil leaves a field alone.
type ProjectPatch struct {
	Name        *string
	Description *string
	Enabled     *bool
	Tags        *[]string
}

// User is a person or a service account.
type User struct {
	ID               string
	Name             string
	Description      string
	Email            string
	Enabled          bool
	DefaultProjectID string
}

// UserPatch holds the fields an update changes.
type UserPatch struct {
	Name             *string
	Description      *string
	Email            *string
	Enabled          *bool
	DefaultProjectID *string
	Password         *string
}

// Role is a named set of permissions.
type Role struct {
	ID          string
	Name        string
	Description string
}

// Assignment grants Role to User on Project. Names are filled in listings.
// ImpliedBy is set for an effective assignment that comes from an implied
// role; it names the directly assigned role.
type Assignment struct {
	UserID, UserName       string
	ProjectID, ProjectName string
	RoleID, RoleName       string
	ImpliedBy              string
}

// AssignmentFilter narrows ListAssignments; empty fields match everything.
type AssignmentFilter struct {
	UserID, ProjectID, RoleID string
	Effective                 bool // expand implied roles
}

// AppCred is an application credential. Secret is set only when created.
type AppCred struct {
	ID           string
	UserID       string
	ProjectID    string
	Name         string
	Description  string
	Unrestricted bool
	ExpiresAt    *time.Time
	Roles        []Role
	Secret       string
}

// CatalogService is an entry of the service catalog.
type CatalogService struct {
	ID          string
	Type        string
	Name        string
	Description string
	Enabled     bool
	Endpoints   []Endpoint
}

// Endpoint is one URL of a service.
type Endpoint struct {
	ID        string
	ServiceID string
	Interface string
	RegionID  string
	URL       string
	Enabled   bool
}

// TokenInfo is everything Keystone reports about a token.
type TokenInfo struct {
	ID      string // the token itself, only set on issue
	Claims  token.Claims
	User    User
	Project *Project // nil when unscoped
	Roles   []Role
	AppCred *AppCred
	Catalog []CatalogService
}

// Package schema holds the migrations of cloudd's PostgreSQL schema "cloud".
package schema

import "embed"

// Name is the PostgreSQL schema cloudd owns.
const Name = "cloud"

// Migrations are applied in file-name order by db.Migrate.
//
//go:embed *.sql
var Migrations embed.FS

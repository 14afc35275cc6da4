// Package db owns PostgreSQL access shared by the Stratus services: the
// embedded private server used when no DATABASE_URL is given, connection
// pools pinned to a service's schema, migrations applied under an advisory
// lock, and the mapping of driver errors to the sentinels the APIs render.
package db

// Package identity owns who may call Stratus and how: projects, users,
// roles and their implications, role assignments, application credentials,
// the service catalog, token issue/validation/revocation and the signing
// keys behind tokens. It is the domain and storage layer; the Keystone v3
// wire format lives in package keystone.
//
// Stratus has a single identity domain, "default"; it is implied rather
// than stored.
package identity

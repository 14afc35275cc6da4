// Package compute owns servers and what they are made of: flavors,
// keypairs, server groups, hosts and their capacity, the scheduler's
// placement claims, per-project compute quotas, and the durable tasks that
// build and change servers on hypervisor hosts. It is the domain and
// storage layer; the Nova v2.1 wire format lives in package nova, and the
// libvirt binding in package hypervisor.
package compute

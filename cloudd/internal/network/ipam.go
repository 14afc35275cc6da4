package network

import (
	"context"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/netip"

	"github.com/jackc/pgx/v5"
)

// IPAM hands out addresses exactly without a lock on anything wider than
// one address: the primary key (subnet_id, address) of ip_allocations is the
// arbiter. An INSERT ... ON CONFLICT DO NOTHING either takes the address or
// learns (after waiting for a concurrent holder to commit or roll back) that
// it is taken. A free address is first guessed at random within the pools,
// which rarely collides while the pool has room; after a few misses IPAM
// walks every free address in turn, so a full pool is reported only when no
// address is left.

// randomTries is how many random guesses precede the exhaustive walk.
const randomTries = 4

// allocate gives port an address on sub: want when valid, else any free
// address in the subnet's pools.
func allocate(ctx context.Context, tx pgx.Tx, sub Subnet, portID string, want netip.Addr) (netip.Addr, error) {
	if want.IsValid() {
		if !sub.prefix.Contains(want) || !hostRange(sub.prefix).contains(want) {
			return netip.Addr{}, neutronError(http.StatusBadRequest, "InvalidIpForSubnet",
				"IP address %s is not a valid IP for the specified subnet.", want)
		}
		ok, err := claim(ctx, tx, sub.ID, want, portID)
		if err != nil || ok {
			return want, err
		}
		return netip.Addr{}, neutronError(http.StatusConflict, "IpAddressAlreadyAllocated",
			"IP address %s already allocated in subnet %s", want, sub.ID)
	}
	total := new(big.Int)
	for _, p := range sub.pools {
		total.Add(total, p.size())
	}
	if total.Sign() > 0 {
		for range randomTries {
			a := nthPoolAddr(sub.pools, randBelow(total), sub.IPVersion == 6)
			ok, err := claim(ctx, tx, sub.ID, a, portID)
			if err != nil || ok {
				return a, err
			}
		}
		taken := map[netip.Addr]bool{}
		rows, _ := tx.Query(ctx, "SELECT address FROM ip_allocations WHERE subnet_id = $1", sub.ID)
		var a netip.Addr
		if _, err := pgx.ForEachRow(rows, []any{&a}, func() error { taken[a] = true; return nil }); err != nil {
			return netip.Addr{}, err
		}
		// Each step of the walk skips an address taken before it began or
		// loses one to a concurrent allocation, so even an IPv6 pool is
		// walked in at most one step more than the subnet has allocations.
		for _, p := range sub.pools {
			for a := p.start; a.IsValid() && a.Compare(p.end) <= 0; a = a.Next() {
				if taken[a] {
					continue
				}
				ok, err := claim(ctx, tx, sub.ID, a, portID)
				if err != nil || ok {
					return a, err
				}
			}
		}
	}
	return netip.Addr{}, neutronError(http.StatusConflict, "IpAddressGenerationFailure",
		"No more IP addresses available on network %s.", sub.NetworkID)
}

// claim takes address a on subnet for port, reporting false when another
// port holds it.
func claim(ctx context.Context, tx pgx.Tx, subnetID string, a netip.Addr, portID string) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO ip_allocations (subnet_id, address, port_id) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, subnetID, a, portID)
	return err == nil && tag.RowsAffected() == 1, err
}

func randBelow(n *big.Int) *big.Int {
	if n.IsUint64() {
		return new(big.Int).SetUint64(rand.Uint64N(n.Uint64()))
	}
	r := new(big.Int).SetUint64(rand.Uint64())
	r.Lsh(r, 64).Or(r, new(big.Int).SetUint64(rand.Uint64()))
	return r.Mod(r, n)
}

// nthPoolAddr is the n-th address counting through the pools in order.
func nthPoolAddr(pools []addrRange, n *big.Int, v6 bool) netip.Addr {
	n = new(big.Int).Set(n)
	for _, p := range pools {
		if size := p.size(); n.Cmp(size) < 0 {
			return intAddr(n.Add(n, addrInt(p.start)), v6)
		} else {
			n.Sub(n, size)
		}
	}
	return pools[len(pools)-1].end
}

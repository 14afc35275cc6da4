package network

import (
	"math/big"
	"net/netip"
)

// Address arithmetic for IPAM, the same for IPv4 and IPv6: addresses as
// big integers, so a /64 pool is no special case.

func addrInt(a netip.Addr) *big.Int {
	b := a.AsSlice()
	return new(big.Int).SetBytes(b)
}

func intAddr(n *big.Int, v6 bool) netip.Addr {
	size := 4
	if v6 {
		size = 16
	}
	b := n.FillBytes(make([]byte, size))
	a, _ := netip.AddrFromSlice(b)
	return a
}

// lastAddr is the highest address of p (the broadcast address for IPv4).
func lastAddr(p netip.Prefix) netip.Addr {
	bits := p.Addr().BitLen()
	host := new(big.Int).Lsh(big.NewInt(1), uint(bits-p.Bits()))
	host.Sub(host, big.NewInt(1))
	return intAddr(host.Or(host, addrInt(p.Masked().Addr())), p.Addr().Is6())
}

// Pool is an inclusive address range handed out by IPAM.
type Pool struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// addrRange is a parsed Pool.
type addrRange struct{ start, end netip.Addr }

func (r addrRange) size() *big.Int {
	n := new(big.Int).Sub(addrInt(r.end), addrInt(r.start))
	return n.Add(n, big.NewInt(1))
}

func (r addrRange) contains(a netip.Addr) bool {
	return r.start.Compare(a) <= 0 && a.Compare(r.end) <= 0
}

func (r addrRange) overlaps(o addrRange) bool {
	return r.start.Compare(o.end) <= 0 && o.start.Compare(r.end) <= 0
}

// hostRange is the range of usable host addresses of a subnet: all but the
// network address, and for IPv4 the broadcast address.
func hostRange(p netip.Prefix) addrRange {
	first := p.Masked().Addr().Next()
	last := lastAddr(p)
	if p.Addr().Is4() {
		last = last.Prev()
	}
	return addrRange{first, last}
}

// defaultPools are the subnet's host addresses minus the gateway.
func defaultPools(p netip.Prefix, gateway netip.Addr) []addrRange {
	all := hostRange(p)
	if !gateway.IsValid() || !all.contains(gateway) {
		return []addrRange{all}
	}
	var out []addrRange
	if gateway != all.start {
		out = append(out, addrRange{all.start, gateway.Prev()})
	}
	if gateway != all.end {
		out = append(out, addrRange{gateway.Next(), all.end})
	}
	return out
}

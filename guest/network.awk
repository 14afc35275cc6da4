# network.awk turns an OpenStack network_data.json into a plan of network
# steps for guest/init to carry out. Inputs, in this order:
#
#   1. the NICs, one "<ifname> <mac>" per line
#   2. network_data.json flattened by json.awk
#
# Output, one step per line, in the order to run them:
#
#   up <if> [<mtu>]              set the link up (with its MTU)
#   addr <if> <address>/<prefix> add a static address
#   route <if> <dest>/<prefix>|default <gateway>
#   dhcp <if>                    ask DHCP for an IPv4 address
#   dns <address>                a DNS server
#
# Links are matched to NICs by MAC address. Networks of type ipv4 and ipv6
# are static, ipv4_dhcp asks DHCP, ipv6_slaac and ipv6_dhcp are left to the
# kernel's router advertisement handling. A NIC that no link describes gets
# DHCP, so a drive without network data still gives the guest a network.

FILENAME == ARGV[1] { byMac[tolower($2)] = $1; nics[++nnic] = $1; next }

{
	tab = index($0, "\t")
	path = substr($0, 1, tab - 1)
	val = substr($0, tab + 1)
	n = split(path, p, "/")
	if (p[1] == "links" && n == 3) {
		link[p[2], p[3]] = val
		if (p[2] + 1 > nlinks) nlinks = p[2] + 1
	} else if (p[1] == "networks" && n == 3) {
		net[p[2], p[3]] = val
		if (p[2] + 1 > nnets) nnets = p[2] + 1
	} else if (p[1] == "networks" && n == 5 && p[3] == "routes") {
		route[p[2], p[4], p[5]] = val
		if (p[4] + 1 > nroutes[p[2]]) nroutes[p[2]] = p[4] + 1
	} else if (p[1] == "networks" && n == 5 && p[3] == "services") {
		if (p[5] == "address") svcaddr[p[2], p[4]] = val
		if (p[5] == "type") svctype[p[2], p[4]] = val
		if (p[4] + 1 > nsvc[p[2]]) nsvc[p[2]] = p[4] + 1
	} else if (p[1] == "services" && n == 3) {
		if (p[3] == "address") svcaddr["", p[2]] = val
		if (p[3] == "type") svctype["", p[2]] = val
		if (p[2] + 1 > nsvc[""]) nsvc[""] = p[2] + 1
	}
}

END {
	for (i = 0; i < nlinks; i++) {
		ifn = byMac[tolower(link[i, "ethernet_mac_address"])]
		if (ifn == "") {
			print "# link " link[i, "id"] ": no NIC with MAC " link[i, "ethernet_mac_address"]
			continue
		}
		linkIf[link[i, "id"]] = ifn
		described[ifn] = 1
		mtu = link[i, "mtu"]
		print "up " ifn (mtu ~ /^[0-9]+$/ ? " " mtu : "")
	}
	for (i = 0; i < nnets; i++) {
		ifn = linkIf[net[i, "link"]]
		if (ifn == "") {
			print "# network " net[i, "id"] ": no NIC for link " net[i, "link"]
			continue
		}
		t = net[i, "type"]
		if (t == "ipv4" || t == "ipv6") {
			print "addr " ifn " " net[i, "ip_address"] "/" prefix(net[i, "netmask"])
			for (r = 0; r < nroutes[i]; r++) {
				bits = prefix(route[i, r, "netmask"])
				dest = bits == 0 ? "default" : route[i, r, "network"] "/" bits
				steps[++nsteps] = "route " ifn " " dest " " route[i, r, "gateway"]
			}
		} else if (t == "ipv4_dhcp") {
			if (!dhcp[ifn]++) steps[++nsteps] = "dhcp " ifn
		} else {
			print "# network " net[i, "id"] ": " t " left to the kernel"
		}
		dns(i)
	}
	for (i = 1; i <= nnic; i++) {
		if (!described[nics[i]]) {
			print "up " nics[i]
			steps[++nsteps] = "dhcp " nics[i]
		}
	}
	for (i = 1; i <= nsteps; i++) print steps[i]
	dns("")
	for (i = 1; i <= ndns; i++) print "dns " dnslist[i]
}

function dns(net,    k, a) {
	for (k = 0; k < nsvc[net]; k++) {
		a = svcaddr[net, k]
		if (svctype[net, k] == "dns" && a != "" && !seenDns[a]++) dnslist[++ndns] = a
	}
}

# prefix turns a netmask (dotted quad, IPv6 mask or already a length) into
# a prefix length.
function prefix(m,    i, n, o, bits, parts) {
	if (m ~ /^[0-9]+$/) return m
	bits = 0
	if (index(m, ".")) {
		n = split(m, parts, ".")
		for (i = 1; i <= n; i++)
			for (o = parts[i] + 0; o > 0; o = int(o / 2)) bits += o % 2
		return bits
	}
	m = tolower(m)
	for (i = 1; i <= length(m); i++) {
		n = index("0123456789abcdef", substr(m, i, 1))
		if (n) bits += substr("0112122312232334", n, 1)
	}
	return bits
}

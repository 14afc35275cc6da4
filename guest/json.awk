# json.awk flattens a JSON document into one line per scalar value:
#
#   <path> TAB <value>
#
# where <path> joins object keys and array indexes with "/" and <value> is
# the string (unescaped; backslash, newline, tab and CR written as \\, \n,
# \t and \r so that every value stays on one line) or the number, true,
# false or null as written. Empty objects and arrays print nothing.
#
#   {"a": {"b": [1, "x y"]}, "c": null}   ->   a/b/0	1
#                                               a/b/1	x y
#                                               c	null
#
# Exit status 1 and a message on stderr for malformed input. Written for
# busybox awk (the tiny guest has no jq); POSIX awk runs it too.

{ S = S $0 "\n" }

END {
	if (!value("")) fail()
	ws()
	if (S != "") fail()
}

function fail() {
	printf "json.awk: malformed JSON near: %s\n", substr(S, 1, 40) > "/dev/stderr"
	exit 1
}

function ws() { sub(/^[ \t\r\n]+/, "", S) }

function key(path, k) { return path == "" ? k : path "/" k }

function value(path,    c, k, n) {
	ws()
	c = substr(S, 1, 1)
	if (c == "{") {
		S = substr(S, 2)
		ws()
		if (substr(S, 1, 1) == "}") { S = substr(S, 2); return 1 }
		while (1) {
			ws()
			if (substr(S, 1, 1) != "\"") return 0
			k = str()
			if (BAD) return 0
			ws()
			if (substr(S, 1, 1) != ":") return 0
			S = substr(S, 2)
			if (!value(key(path, k))) return 0
			ws()
			c = substr(S, 1, 1)
			S = substr(S, 2)
			if (c == "}") return 1
			if (c != ",") return 0
		}
	}
	if (c == "[") {
		S = substr(S, 2)
		ws()
		if (substr(S, 1, 1) == "]") { S = substr(S, 2); return 1 }
		for (n = 0; ; n++) {
			if (!value(key(path, n))) return 0
			ws()
			c = substr(S, 1, 1)
			S = substr(S, 2)
			if (c == "]") return 1
			if (c != ",") return 0
		}
	}
	if (c == "\"") {
		k = str()
		if (BAD) return 0
		print path "\t" k
		return 1
	}
	if (match(S, /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/) || match(S, /^(true|false|null)/)) {
		print path "\t" substr(S, 1, RLENGTH)
		S = substr(S, RLENGTH + 1)
		return 1
	}
	return 0
}

# str consumes the string at the start of S and returns its value.
function str(    out, q, b, c, u, lo) {
	S = substr(S, 2)
	out = ""
	while (1) {
		q = index(S, "\"")
		b = index(S, "\\")
		if (q == 0) { BAD = 1; return "" }
		if (b == 0 || q < b) {
			out = out substr(S, 1, q - 1)
			S = substr(S, q + 1)
			return out
		}
		out = out substr(S, 1, b - 1)
		c = substr(S, b + 1, 1)
		S = substr(S, b + 2)
		if (c == "\"" || c == "/") out = out c
		else if (c == "\\") out = out "\\\\"
		else if (c == "n") out = out "\\n"
		else if (c == "t") out = out "\\t"
		else if (c == "r") out = out "\\r"
		else if (c == "b" || c == "f") out = out
		else if (c == "u") {
			u = hex4()
			if (u < 0) { BAD = 1; return "" }
			if (u >= 55296 && u < 56320 && substr(S, 1, 2) == "\\u") { # surrogate pair
				S = substr(S, 3)
				lo = hex4()
				if (lo < 56320 || lo >= 57344) { BAD = 1; return "" }
				u = 65536 + (u - 55296) * 1024 + (lo - 56320)
			}
			out = out utf8(u)
		} else { BAD = 1; return "" }
	}
}

function hex4(    i, d, v) {
	v = 0
	for (i = 1; i <= 4; i++) {
		d = index("0123456789abcdef", tolower(substr(S, i, 1)))
		if (d == 0) return -1
		v = v * 16 + d - 1
	}
	S = substr(S, 5)
	return v
}

function utf8(u) {
	if (u == 0) return ""
	if (u < 128) return sprintf("%c", u)
	if (u < 2048) return sprintf("%c%c", 192 + int(u / 64), 128 + u % 64)
	if (u < 65536) return sprintf("%c%c%c", 224 + int(u / 4096), 128 + int(u / 64) % 64, 128 + u % 64)
	return sprintf("%c%c%c%c", 240 + int(u / 262144), 128 + int(u / 4096) % 64, 128 + int(u / 64) % 64, 128 + u % 64)
}

#!/usr/bin/env python3
"""Captures the golden rtnetlink messages of tests/netlink/ (not product code).

Run as root from the repository root:  python3 tests/netlink/testdata/capture.py

The script first moves itself into a fresh, private network namespace (unshare(CLONE_NEWNET)), so
nothing it creates touches the host; the namespace disappears when the script exits. There it builds
veth/bridge links, addresses, routes and rules, dumps them over a raw AF_NETLINK socket and writes,
beside this file:

  routes.json, links.json, addresses.json, rules.json  {"messages": [hex of one message, ...]}
  routes.ip.json, links.ip.json, ...                   what `ip -j -d ... show` printed (the oracle)
  route_attrs.json, route_attrs.ip.json                table 100, built after the dumps above:
                                                       every metric, realms, pref, expiry, onlink,
                                                       weighted multipath, nexthop-object routes
  nexthops.json, nexthops.ip.json                      nexthop objects (RTM_GETNEXTHOP)
  acks.json                                            NLMSG_ERROR replies with and without ext-ack
  ntop.json                                            inet_ntop(AF_INET6, bytes) test vectors

Messages are stored one per entry, in the order the kernel sent them, without NLMSG_DONE.
"""

import ctypes
import json
import os
import random
import socket
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CLONE_NEWNET = 0x40000000
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE, NLM_F_DUMP = 0x1, 0x4, 0x200, 0x400, 0x300
RTM_NEWROUTE, RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_GETRULE = 24, 18, 22, 26, 34
RTM_GETNEXTHOP = 106
SOL_NETLINK, NETLINK_CAP_ACK, NETLINK_EXT_ACK = 270, 10, 11
RTA_DST, RTA_OIF, RTA_PREFSRC, RTA_TABLE = 1, 4, 7, 15


def enter_private_netns():
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        sys.exit(f"unshare(CLONE_NEWNET) failed: {os.strerror(ctypes.get_errno())}")


def ip(*args):
    subprocess.run(["ip", *args], check=True)


def ip_json(*args):
    return json.loads(subprocess.run(["ip", "-j", *args], check=True, capture_output=True).stdout)


def build():
    ip("link", "set", "lo", "up")
    ip("link", "add", "lmt0", "type", "veth", "peer", "name", "lmt1")
    ip("link", "add", "br0", "type", "bridge")
    ip("link", "set", "lmt1", "master", "br0")
    for dev in ("lmt0", "lmt1", "br0"):
        ip("link", "set", dev, "up")
    ip("link", "set", "lmt0", "mtu", "1420")
    ip("addr", "add", "10.0.0.2/24", "dev", "lmt0")
    ip("addr", "add", "10.0.1.2/24", "brd", "+", "dev", "lmt0", "label", "lmt0:1")
    ip("addr", "add", "2001:db8:1::2/64", "dev", "lmt0", "nodad")
    ip("addr", "add", "192.168.7.1/24", "dev", "br0")
    ip("addr", "add", "2001:db8:2::1/64", "dev", "br0", "nodad")
    ip("addr", "add", "fd00::1", "peer", "fd00::2", "dev", "br0", "nodad")
    ip("addr", "add", "2001:db8:3::1/64", "dev", "br0", "nodad", "valid_lft", "600",
       "preferred_lft", "300")
    # IPv4 routes in main.
    ip("route", "add", "default", "via", "10.0.0.1", "dev", "lmt0", "metric", "50")
    ip("route", "add", "10.1.0.0/16", "via", "10.0.0.1", "dev", "lmt0", "metric", "100")
    ip("route", "add", "10.2.0.0/24", "dev", "lmt0", "scope", "link", "proto", "static", "src",
       "10.0.0.2")
    ip("route", "add", "10.3.0.0/24", "nexthop", "via", "10.0.0.1", "dev", "lmt0", "weight", "1",
       "nexthop", "via", "192.168.7.2", "dev", "br0", "weight", "3")
    ip("route", "add", "10.4.0.0/24", "via", "10.0.0.1", "dev", "lmt0", "mtu", "1400", "advmss",
       "1360")
    ip("route", "add", "blackhole", "10.5.0.0/24")
    ip("route", "add", "unreachable", "10.6.0.0/24", "metric", "7")
    ip("route", "add", "prohibit", "10.7.0.0/24")
    ip("nexthop", "add", "id", "1", "via", "10.0.0.1", "dev", "lmt0")
    ip("route", "add", "10.8.0.0/24", "nhid", "1")
    ip("route", "add", "10.9.0.0/24", "via", "172.16.0.1", "dev", "lmt0", "onlink")
    ip("route", "add", "10.10.0.1", "dev", "br0", "proto", "boot", "tos", "0x10")
    # The VPN's table, above 255, with linkmirror-like copies (protocol 77).
    ip("route", "add", "default", "dev", "lmt0", "table", "539098368")
    ip("route", "add", "192.168.7.0/24", "dev", "br0", "scope", "link", "proto", "77", "table",
       "539098368")
    ip("route", "add", "throw", "10.11.0.0/16", "table", "539098368")
    # IPv6 routes.
    ip("-6", "route", "add", "2001:db8:10::/48", "via", "2001:db8:1::1", "dev", "lmt0")
    ip("-6", "route", "add", "2001:db8:11::/48", "nexthop", "via", "2001:db8:1::1", "dev", "lmt0",
       "nexthop", "via", "2001:db8:2::2", "dev", "br0", "weight", "2")
    ip("-6", "route", "add", "2001:db8:12::/64", "via", "fe80::1", "dev", "lmt0", "expires", "300",
       "pref", "high")
    ip("-6", "route", "add", "unreachable", "2001:db8:13::/64", "metric", "9")
    ip("-6", "route", "add", "2001:db8:14::/64", "dev", "br0", "src", "2001:db8:2::1", "metric",
       "512", "mtu", "1300")
    ip("-6", "route", "add", "::ffff:0:0/96", "dev", "br0", "metric", "700")
    ip("-6", "route", "add", "default", "via", "fe80::1", "dev", "lmt0", "table", "539098368",
       "pref", "low")
    ip("-6", "route", "add", "2001:db8:2::/64", "dev", "br0", "proto", "77", "table", "539098368")
    # Rules: a Firezone-like one and a few with selectors.
    ip("rule", "add", "not", "fwmark", "0xfd002021", "table", "539098368", "pref", "32765")
    ip("rule", "add", "table", "main", "suppress_prefixlength", "0", "pref", "32764")
    ip("rule", "add", "from", "10.0.0.0/24", "to", "10.9.0.0/16", "iif", "lmt0", "oif", "br0",
       "lookup", "100", "pref", "1000", "proto", "static")
    ip("rule", "add", "fwmark", "0x10/0xff", "blackhole", "pref", "1001")
    ip("-6", "rule", "add", "not", "fwmark", "0xfd002021", "table", "539098368", "pref", "32765")
    ip("-6", "rule", "add", "from", "2001:db8::/32", "lookup", "51820", "pref", "2000")


def build_attrs():
    """Routes in table 100 with every attribute a copy carries, and nexthop objects."""
    t = ("table", "100")
    # The Firezone-like rule would send the kernel's check of an IPv6 gateway into the VPN table.
    ip("-6", "rule", "del", "pref", "32765")
    ip("route", "add", "10.50.0.0/24", "dev", "lmt0", *t, "mtu", "lock", "1400", "advmss", "1360",
       "hoplimit", "33", "initcwnd", "10", "initrwnd", "20", "rto_min", "50ms", "quickack",
       "1", "congctl", "lock", "cubic", "features", "ecn", "window", "1000", "rtt", "20ms",
       "rttvar", "10ms", "ssthresh", "30", "cwnd", "5", "reordering", "4", "fastopen_no_cookie",
       "1", "realm", "7")
    ip("route", "add", "10.51.0.0/24", *t, "nexthop", "dev", "lmt0", "weight", "2", "realm", "3",
       "nexthop", "dev", "br0", "weight", "5")
    ip("route", "add", "10.52.0.0/24", "via", "172.16.0.1", "dev", "lmt0", "onlink", *t,
       "realm", "2/9")
    ip("nexthop", "add", "id", "10", "dev", "lmt0")
    ip("nexthop", "add", "id", "11", "dev", "br0")
    ip("nexthop", "add", "id", "12", "group", "10/11,3")
    ip("nexthop", "add", "id", "13", "via", "10.0.0.1", "dev", "lmt0", "proto", "static")
    ip("nexthop", "add", "id", "14", "blackhole")
    ip("nexthop", "add", "id", "15", "group", "10/11", "type", "resilient", "buckets", "8")
    ip("nexthop", "add", "id", "16", "via", "10.0.0.9", "fdb")
    ip("-6", "nexthop", "add", "id", "20", "dev", "lmt0")
    ip("-6", "nexthop", "add", "id", "21", "via", "2001:db8:1::1", "dev", "lmt0")
    ip("nexthop", "add", "id", "22", "group", "21,200/20")
    ip("route", "add", "10.53.0.0/24", "nhid", "10", *t)
    ip("route", "add", "10.54.0.0/24", "nhid", "12", *t, "metric", "5")
    ip("-6", "route", "add", "2001:db8:50::/64", "dev", "br0", *t, "pref", "high", "expires",
       "600", "mtu", "lock", "1300", "hoplimit", "9", "metric", "300")
    ip("-6", "route", "add", "2001:db8:51::/64", "nhid", "22", *t)
    ip("-6", "route", "add", "2001:db8:52::/64", *t, "nexthop", "via", "2001:db8:1::1", "dev",
       "lmt0", "weight", "3", "nexthop", "via", "2001:db8:2::2", "dev", "br0")


def table_of(message_hex):
    """RTA_TABLE of a dumped route message (hex), else its rtm_table."""
    raw = bytes.fromhex(message_hex)
    off, table = 16 + 12, raw[16 + 4]
    while off + 4 <= len(raw):
        length, kind = struct.unpack_from("=HH", raw, off)
        if length < 4:
            break
        if kind == RTA_TABLE:
            table = struct.unpack_from("=I", raw, off + 4)[0]
        off += (length + 3) & ~3
    return table


def request(sock, msg_type, flags, payload, seq):
    header = struct.pack("=IHHII", 16 + len(payload), msg_type, flags, seq, 0)
    sock.send(header + payload)


def split(datagram):
    out, off = [], 0
    while off + 16 <= len(datagram):
        length, msg_type, flags = struct.unpack_from("=IHH", datagram, off)
        out.append((msg_type, flags, datagram[off:off + length]))
        off += (length + 3) & ~3
    return out


def dump(msg_type, payload, seq):
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0) as sock:
        sock.bind((0, 0))
        request(sock, msg_type, NLM_F_REQUEST | NLM_F_DUMP, payload, seq)
        messages = []
        while True:
            for kind, _, raw in split(sock.recv(1 << 20)):
                if kind == NLMSG_DONE:
                    return messages
                if kind == NLMSG_ERROR:
                    sys.exit(f"dump {msg_type} failed: {raw.hex()}")
                messages.append(raw.hex())


def attr(kind, data):
    raw = struct.pack("=HH", 4 + len(data), kind) + data
    return raw + b"\0" * (-len(raw) % 4)


def acks():
    """Requests that the kernel acknowledges, refuses, or refuses with an extended ack."""
    oif = socket.if_nametoindex("lmt0")
    rtmsg = struct.pack("=BBBBBBBBI", socket.AF_INET, 24, 0, 0, 254, 4, 0, 1, 0)
    good = rtmsg + attr(RTA_TABLE, struct.pack("=I", 254)) + attr(RTA_DST, bytes([10, 20, 0, 0])) \
        + attr(RTA_OIF, struct.pack("=I", oif))
    # RTA_OIF with 2 bytes instead of 4 fails policy validation: message and offset.
    bad_len = rtmsg + attr(RTA_DST, bytes([10, 21, 0, 0])) + attr(RTA_OIF, b"\x01\x00")
    # A preferred source that is no local address: a message without an offset.
    bad_src = rtmsg + attr(RTA_DST, bytes([10, 22, 0, 0])) + attr(RTA_OIF, struct.pack("=I", oif)) \
        + attr(RTA_PREFSRC, bytes([10, 99, 0, 1]))
    cases = [
        ("success ack, not capped", False, good),
        ("EEXIST, whole request echoed", False, good),
        ("EEXIST, capped", True, good),
        ("policy violation with offset, whole request echoed", False, bad_len),
        ("policy violation with offset, capped", True, bad_len),
        ("invalid prefsrc, message only, whole request echoed", False, bad_src),
    ]
    out = []
    for seq, (name, capped, payload) in enumerate(cases, start=100):
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0) as sock:
            sock.bind((0, 0))
            sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
            if capped:
                sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
            flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
            request(sock, RTM_NEWROUTE, flags, payload, seq)
            [(kind, _, raw)] = split(sock.recv(1 << 16))
            assert kind == NLMSG_ERROR, kind
            errno = -struct.unpack_from("=i", raw, 16)[0]
            req = struct.pack("=IHHII", 16 + len(payload), RTM_NEWROUTE, flags, seq, 0) + payload
            out.append({"name": name, "errno": errno, "request": req.hex(), "reply": raw.hex()})
    return out


def ntop_vectors():
    rng = random.Random(5952)
    cases = [bytes(16), bytes(15) + b"\1", bytes(15) + b"\2", bytes(10) + b"\xff\xff\1\2\3\4",
             bytes(12) + b"\1\2\3\4", bytes(12) + b"\0\1\0\0", bytes(8) + b"\xff\xff\0\0\1\2\3\4",
             bytes(10) + b"\xff\xfe\1\2\3\4", bytes(10) + b"\xff\xff\0\0\0\0",
             bytes.fromhex("20010db8000000010000000100000001"),
             bytes.fromhex("20010db8000000000001000000000000"),
             bytes.fromhex("20010db8000000000001000000000001"),
             bytes.fromhex("fe800000000000000000000000000001"),
             bytes.fromhex("ff020000000000000000000000000001"),
             bytes.fromhex("00010000000000000000000000000000"),
             bytes.fromhex("00000000000000010000000000000000"),
             bytes.fromhex("ffffffffffffffffffffffffffffffff"),
             bytes.fromhex("0064ff9b000000000000000001020304")]
    for _ in range(300):
        # Words drawn mostly from {0, 1, 0xffff, random} so that zero runs of all lengths occur.
        words = [rng.choice([0, 0, 0, 1, 0xffff, rng.randrange(1 << 16)]) for _ in range(8)]
        cases.append(struct.pack("!8H", *words))
    return [{"bytes": c.hex(), "text": socket.inet_ntop(socket.AF_INET6, c)} for c in cases]


def save(name, value):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(value, f, indent=1)
        f.write("\n")


def main():
    enter_private_netns()
    build()
    kernel = os.uname().release
    note = f"captured by capture.py in a private network namespace, Linux {kernel}"
    rtmsg = bytes(12)  # AF_UNSPEC: every family.
    save("routes.json", {"note": note, "messages": dump(RTM_GETROUTE, rtmsg, 1)})
    save("routes.ip.json", ip_json("-d", "route", "show", "table", "all"))
    save("links.json", {"note": note, "messages": dump(RTM_GETLINK, bytes(16), 2)})
    save("links.ip.json", ip_json("-d", "link", "show"))
    save("addresses.json", {"note": note, "messages": dump(RTM_GETADDR, bytes(8), 3)})
    save("addresses.ip.json", ip_json("addr", "show"))
    save("rules.json", {"note": note, "messages": dump(RTM_GETRULE, bytes(12), 4)})
    save("rules.ip.json", ip_json("-4", "rule", "show") + ip_json("-6", "rule", "show"))
    save("acks.json", {"note": note, "acks": acks()})
    build_attrs()
    attrs = [m for m in dump(RTM_GETROUTE, rtmsg, 5) if table_of(m) == 100]
    save("route_attrs.json", {"note": note, "messages": attrs})
    save("route_attrs.ip.json", ip_json("-d", "route", "show", "table", "100") +
         ip_json("-d", "-6", "route", "show", "table", "100"))
    save("nexthops.json", {"note": note, "messages": dump(RTM_GETNEXTHOP, bytes(8), 6)})
    save("nexthops.ip.json", ip_json("-d", "nexthop", "show"))
    save("ntop.json", {"note": "socket.inet_ntop(AF_INET6, bytes) of glibc", "vectors": ntop_vectors()})


if __name__ == "__main__":
    main()

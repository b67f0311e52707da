/**
 * Numeric constants of netlink(7) and rtnetlink(7), as the kernel's uapi headers
 * (`linux/netlink.h`, `linux/rtnetlink.h`, `linux/if_link.h`, `linux/if_addr.h`,
 * `linux/fib_rules.h`, `linux/nexthop.h`) define them: frozen `as const` objects, so each value
 * keeps its literal type, and for the route fields a derived union of the known values (e.g.
 * {@linkcode RouteType}). Decoded fields stay `number`: the kernel may send values newer than
 * these lists.
 *
 * @module
 */

/** Address families used on rtnetlink. */
export const AF = Object.freeze({ UNSPEC: 0, UNIX: 1, INET: 2, NETLINK: 16, INET6: 10 });

/** Netlink protocol number of rtnetlink. */
export const NETLINK_ROUTE = 0;

/** Size of `struct nlmsghdr`. */
export const NLMSG_HDRLEN = 16;
/** Netlink messages and attributes are aligned to this many bytes. */
export const NLMSG_ALIGNTO = 4;

/** Control message types (`nlmsg_type` below `NLMSG_MIN_TYPE`). */
export const NLMSG = Object.freeze({ NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 });

/** `nlmsg_flags` bits. */
export const NLM_F = Object.freeze({
  REQUEST: 0x01,
  MULTI: 0x02,
  ACK: 0x04,
  ECHO: 0x08,
  DUMP_INTR: 0x10,
  DUMP_FILTERED: 0x20,
  // Modifiers of GET requests.
  ROOT: 0x100,
  MATCH: 0x200,
  ATOMIC: 0x400,
  DUMP: 0x300,
  // Modifiers of NEW requests.
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  // Flags of ACK messages.
  CAPPED: 0x100,
  ACK_TLVS: 0x200,
});

/** rtnetlink message types. */
export const RTM = Object.freeze(
  {
    NEWLINK: 16,
    DELLINK: 17,
    GETLINK: 18,
    NEWADDR: 20,
    DELADDR: 21,
    GETADDR: 22,
    NEWROUTE: 24,
    DELROUTE: 25,
    GETROUTE: 26,
    NEWRULE: 32,
    DELRULE: 33,
    GETRULE: 34,
    NEWNEXTHOP: 104,
    DELNEXTHOP: 105,
    GETNEXTHOP: 106,
  } as const,
);

/** An rtnetlink message type this codebase knows. */
export type RtmType = (typeof RTM)[keyof typeof RTM];

/** Route attribute types (`enum rtattr_type_t`). */
export const RTA = Object.freeze(
  {
    UNSPEC: 0,
    DST: 1,
    SRC: 2,
    IIF: 3,
    OIF: 4,
    GATEWAY: 5,
    PRIORITY: 6,
    PREFSRC: 7,
    METRICS: 8,
    MULTIPATH: 9,
    FLOW: 11,
    CACHEINFO: 12,
    TABLE: 15,
    MARK: 16,
    MFC_STATS: 17,
    VIA: 18,
    NEWDST: 19,
    PREF: 20,
    ENCAP_TYPE: 21,
    ENCAP: 22,
    EXPIRES: 23,
    PAD: 24,
    UID: 25,
    TTL_PROPAGATE: 26,
    IP_PROTO: 27,
    SPORT: 28,
    DPORT: 29,
    NH_ID: 30,
  } as const,
);

/** A route attribute type this codebase knows. */
export type RouteAttributeType = (typeof RTA)[keyof typeof RTA];

/**
 * Route metrics (`RTAX_*`), the attributes nested in `RTA_METRICS`. `LOCK` is a bit set:
 * bit `1 << RTAX_x` locks metric x (the kernel then does not learn a better value, e.g. from
 * path MTU discovery).
 */
export const RTAX = Object.freeze(
  {
    UNSPEC: 0,
    LOCK: 1,
    MTU: 2,
    WINDOW: 3,
    RTT: 4,
    RTTVAR: 5,
    SSTHRESH: 6,
    CWND: 7,
    ADVMSS: 8,
    REORDERING: 9,
    HOPLIMIT: 10,
    INITCWND: 11,
    FEATURES: 12,
    RTO_MIN: 13,
    INITRWND: 14,
    QUICKACK: 15,
    CC_ALGO: 16,
    FASTOPEN_NO_COOKIE: 17,
  } as const,
);

/** A route metric type (`RTAX_*`). */
export type RouteMetricType = (typeof RTAX)[keyof typeof RTAX];

/** Bits of the `RTAX_FEATURES` metric that a route may carry. */
export const RTAX_FEATURE = Object.freeze(
  {
    ECN: 1,
    SACK: 2,
    TIMESTAMP: 4,
    ALLFRAG: 8,
    TCP_USEC_TS: 16,
  } as const,
);

/** IPv6 router preference (`RTA_PREF`, `ICMPV6_ROUTER_PREF_*`). */
export const ICMPV6_ROUTER_PREF = Object.freeze(
  { MEDIUM: 0, HIGH: 1, INVALID: 2, LOW: 3 } as const,
);

/** An IPv6 router preference value. */
export type RouterPref = (typeof ICMPV6_ROUTER_PREF)[keyof typeof ICMPV6_ROUTER_PREF];

/** Nexthop object attribute types (`NHA_*`, `linux/nexthop.h`). */
export const NHA = Object.freeze(
  {
    UNSPEC: 0,
    ID: 1,
    GROUP: 2,
    GROUP_TYPE: 3,
    BLACKHOLE: 4,
    OIF: 5,
    GATEWAY: 6,
    ENCAP_TYPE: 7,
    ENCAP: 8,
    GROUPS: 9,
    MASTER: 10,
    FDB: 11,
    RES_GROUP: 12,
    RES_BUCKET: 13,
    OP_FLAGS: 14,
    GROUP_STATS: 15,
    HW_STATS_ENABLE: 16,
    HW_STATS_USED: 17,
  } as const,
);

/** A nexthop object attribute type. */
export type NexthopAttributeType = (typeof NHA)[keyof typeof NHA];

/** Nexthop group types (`NHA_GROUP_TYPE`). */
export const NEXTHOP_GRP_TYPE = Object.freeze({ MPATH: 0, RES: 1 } as const);

/** Route types (`rtm_type`). */
export const RTN = Object.freeze(
  {
    UNSPEC: 0,
    UNICAST: 1,
    LOCAL: 2,
    BROADCAST: 3,
    ANYCAST: 4,
    MULTICAST: 5,
    BLACKHOLE: 6,
    UNREACHABLE: 7,
    PROHIBIT: 8,
    THROW: 9,
    NAT: 10,
    XRESOLVE: 11,
  } as const,
);

/** A route type (`rtm_type`) the kernel headers name. */
export type RouteType = (typeof RTN)[keyof typeof RTN];

/** Route origins (`rtm_protocol`) that the kernel headers name. */
export const RTPROT = Object.freeze(
  {
    UNSPEC: 0,
    REDIRECT: 1,
    KERNEL: 2,
    BOOT: 3,
    STATIC: 4,
    RA: 9,
    DHCP: 16,
  } as const,
);

/** A route origin (`rtm_protocol`) the kernel headers name. */
export type RouteProtocol = (typeof RTPROT)[keyof typeof RTPROT];

/** Route scopes (`rtm_scope`). */
export const RT_SCOPE = Object.freeze(
  {
    UNIVERSE: 0,
    SITE: 200,
    LINK: 253,
    HOST: 254,
    NOWHERE: 255,
  } as const,
);

/** A route scope (`rtm_scope`). */
export type RouteScope = (typeof RT_SCOPE)[keyof typeof RT_SCOPE];

/** Reserved routing table ids. */
export const RT_TABLE = Object.freeze({
  UNSPEC: 0,
  COMPAT: 252,
  DEFAULT: 253,
  MAIN: 254,
  LOCAL: 255,
});

/** `rtm_flags` bits. */
export const RTM_F = Object.freeze(
  {
    NOTIFY: 0x100,
    CLONED: 0x200,
    EQUALIZE: 0x400,
    PREFIX: 0x800,
    LOOKUP_TABLE: 0x1000,
    FIB_MATCH: 0x2000,
    OFFLOAD: 0x4000,
    TRAP: 0x8000,
  } as const,
);

/** One `rtm_flags` bit. */
export type RouteFlag = (typeof RTM_F)[keyof typeof RTM_F];

/** Next-hop flags (`rtnh_flags`, also in `rtm_flags`). */
export const RTNH_F = Object.freeze(
  {
    DEAD: 1,
    PERVASIVE: 2,
    ONLINK: 4,
    OFFLOAD: 8,
    LINKDOWN: 16,
    UNRESOLVED: 32,
    TRAP: 64,
  } as const,
);

/** One next-hop flag bit (`RTNH_F_*`). */
export type NexthopFlag = (typeof RTNH_F)[keyof typeof RTNH_F];

/** Link attribute types (`IFLA_*`). */
export const IFLA = Object.freeze({
  UNSPEC: 0,
  ADDRESS: 1,
  BROADCAST: 2,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  QDISC: 6,
  STATS: 7,
  MASTER: 10,
  OPERSTATE: 16,
  LINKMODE: 17,
  LINKINFO: 18,
  IFALIAS: 20,
  STATS64: 23,
  GROUP: 27,
  CARRIER: 33,
});

/** Nested attribute types inside `IFLA_LINKINFO`. */
export const IFLA_INFO = Object.freeze({ KIND: 1, DATA: 2 });

/** Interface flags (`ifi_flags`). */
export const IFF = Object.freeze({
  UP: 0x1,
  BROADCAST: 0x2,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  RUNNING: 0x40,
  NOARP: 0x80,
  MULTICAST: 0x1000,
  LOWER_UP: 0x10000,
});

/** Address attribute types (`IFA_*`). */
export const IFA = Object.freeze({
  UNSPEC: 0,
  ADDRESS: 1,
  LOCAL: 2,
  LABEL: 3,
  BROADCAST: 4,
  ANYCAST: 5,
  CACHEINFO: 6,
  MULTICAST: 7,
  FLAGS: 8,
  RT_PRIORITY: 9,
});

/** Address flags (`ifa_flags` and `IFA_FLAGS`). */
export const IFA_F = Object.freeze({
  SECONDARY: 0x01,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
  STABLE_PRIVACY: 0x800,
});

/** Policy-rule attribute types (`FRA_*`). */
export const FRA = Object.freeze({
  UNSPEC: 0,
  DST: 1,
  SRC: 2,
  IIFNAME: 3,
  GOTO: 4,
  PRIORITY: 6,
  FWMARK: 10,
  FLOW: 11,
  TUN_ID: 12,
  SUPPRESS_IFGROUP: 13,
  SUPPRESS_PREFIXLEN: 14,
  TABLE: 15,
  FWMASK: 16,
  OIFNAME: 17,
  PAD: 18,
  L3MDEV: 19,
  UID_RANGE: 20,
  PROTOCOL: 21,
  IP_PROTO: 22,
  SPORT_RANGE: 23,
  DPORT_RANGE: 24,
});

/** Policy-rule actions (`FR_ACT_*`) and flags (`FIB_RULE_*`). */
export const FR_ACT = Object.freeze({
  UNSPEC: 0,
  TO_TBL: 1,
  GOTO: 2,
  NOP: 3,
  BLACKHOLE: 6,
  UNREACHABLE: 7,
  PROHIBIT: 8,
});

/** Policy-rule flags (`FIB_RULE_*`). */
export const FIB_RULE = Object.freeze({ PERMANENT: 1, INVERT: 2, UNRESOLVED: 4 });

/** Attributes of an extended ACK (`NLMSGERR_ATTR_*`). */
export const NLMSGERR_ATTR = Object.freeze({
  UNUSED: 0,
  MSG: 1,
  OFFS: 2,
  COOKIE: 3,
  POLICY: 4,
  MISS_TYPE: 5,
  MISS_NEST: 6,
});

/** Multicast groups of rtnetlink (`enum rtnetlink_groups`), for `NETLINK_ADD_MEMBERSHIP`. */
export const RTNLGRP = Object.freeze(
  {
    LINK: 1,
    IPV4_IFADDR: 5,
    IPV4_ROUTE: 7,
    IPV4_RULE: 8,
    IPV6_IFADDR: 9,
    IPV6_ROUTE: 11,
    IPV6_RULE: 19,
    NEXTHOP: 32,
  } as const,
);

/** Socket option levels and names used on netlink sockets. */
export const SOL = Object.freeze({ SOCKET: 1, NETLINK: 270 });

/** `SOL_SOCKET` option names. */
export const SO = Object.freeze({ SNDBUF: 7, RCVBUF: 8, SNDBUFFORCE: 32, RCVBUFFORCE: 33 });

/** `SOL_NETLINK` option names. */
export const NETLINK_OPT = Object.freeze({
  ADD_MEMBERSHIP: 1,
  DROP_MEMBERSHIP: 2,
  PKTINFO: 3,
  BROADCAST_ERROR: 4,
  NO_ENOBUFS: 5,
  LISTEN_ALL_NSID: 8,
  CAP_ACK: 10,
  EXT_ACK: 11,
  GET_STRICT_CHK: 12,
});

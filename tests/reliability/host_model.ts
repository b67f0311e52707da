/**
 * The model of a host for model-based random testing: a seeded generator of what hosts do to
 * their routing — addresses (IPv4 and IPv6, one or several per link) come and go, links go down
 * and up, carriers drop, routes are added and deleted by hand in `main` and (with foreign
 * protocols) in the VPN's table, the VPN flushes and refills its table or restarts, laptops roam,
 * interfaces appear and vanish; a hostile LAN puts on-link routes for public space into main
 * (DHCP option 121's split default, a /1 lease, a router advertisement's `2000::/3`, a public
 * /24), and the VPN adds resources covering a LAN or its own catch-alls.
 *
 * A step is plain data (a label and the `ip` commands it runs), so that a failing run can be
 * printed, replayed and shrunk. The generator keeps a rough model of the host only to pick
 * plausible steps; the kernel is the truth, and a command the kernel refuses (deleting what a
 * link-down already removed, say) is simply skipped by the runner.
 *
 * @module
 */

import { Random } from "../_fixtures/random.ts";
import { firezoneRoutes, firezoneRule } from "../kernel/firezone.ts";

/**
 * One command of a step: `ip -n <ns> ...ip` (in the LAN peer namespace with `peer`), or
 * `sysctl -w <sysctl>` in the host's namespace.
 */
export interface StepCommand {
  /** Run in the peer namespace (the other ends of the LAN links) instead of the host's. */
  peer?: boolean;
  /**
   * Arguments of `ip`: `{table}` is the Firezone table, `{table2}` the second target table
   * (wg-quick's), `{peer}` the peer namespace's name.
   */
  ip?: string[];
  /** A `key=value` for `sysctl -w`. */
  sysctl?: string;
}

/** One action of the host. */
export interface Step {
  /** What it does, for humans. */
  label: string;
  /** What it runs, in order. */
  commands: StepCommand[];
}

/** The links of the model: `lan0` always exists; `lan1`..`lan3` may come and go. */
export const LAN_LINKS = ["lan0", "lan1", "lan2", "lan3"] as const;

/** The VPN's own routes in its table (the Firezone scenario's). */
export const VPN_ROUTES: readonly string[][] = firezoneRoutes("{table}");

/** The host before the first step: links, addresses and the VPN. */
export const INITIAL_STEPS: readonly Step[] = [
  {
    label: "lan0 with 192.168.1.10/24 and 2001:db8:1::10/64",
    commands: [
      ...veth("lan0"),
      { ip: ["address", "add", "192.168.1.10/24", "dev", "lan0"] },
      { ip: ["-6", "address", "add", "2001:db8:1::10/64", "dev", "lan0", "nodad"] },
    ],
  },
  {
    label: "lan1 with 10.20.0.5/24",
    commands: [
      ...veth("lan1"),
      { ip: ["address", "add", "10.20.0.5/24", "dev", "lan1"] },
    ],
  },
  {
    label: "a second VPN: tun1 and its table (wg-quick style)",
    commands: [
      { ip: ["tuntap", "add", "mode", "tun", "name", "tun1"] },
      { ip: ["link", "set", "tun1", "up"] },
      { ip: ["route", "add", "default", "dev", "tun1", "table", "{table2}"] },
    ],
  },
  {
    label: "the VPN: tun0, its table, the fwmark rules",
    commands: [
      { ip: ["tuntap", "add", "mode", "tun", "name", "tun0"] },
      { ip: ["link", "set", "tun0", "up"] },
      { ip: ["address", "add", "100.64.0.2/32", "dev", "tun0"] },
      ...VPN_ROUTES.map((ip) => ({ ip })),
      ...["-4", "-6"].map((family) => ({ ip: [family, ...firezoneRule("{table}")] })),
    ],
  },
];

interface LinkModel {
  exists: boolean;
  up: boolean;
  carrier: boolean;
  v4: string[];
  v6: string[];
}

interface RouteModel {
  /** The arguments after `route add` (with `-6` first for IPv6). */
  spec: string[];
  dev?: string;
  family: 4 | 6;
}

/** The generator's rough idea of the host. */
interface HostModel {
  links: Map<string, LinkModel>;
  main: RouteModel[];
  foreign: RouteModel[];
}

function initialModel(): HostModel {
  const links = new Map<string, LinkModel>();
  for (const name of LAN_LINKS) {
    links.set(name, { exists: false, up: false, carrier: false, v4: [], v6: [] });
  }
  Object.assign(links.get("lan0")!, {
    exists: true,
    up: true,
    carrier: true,
    v4: ["192.168.1.10/24"],
    v6: ["2001:db8:1::10/64"],
  });
  Object.assign(links.get("lan1")!, {
    exists: true,
    up: true,
    carrier: true,
    v4: ["10.20.0.5/24"],
  });
  return { links, main: [], foreign: [] };
}

const SUBNETS4 = ["192.168.1", "192.168.2", "10.20.0", "10.20.1", "172.16.5"];
const SUBNETS6 = ["2001:db8:1", "2001:db8:2", "2001:db8:3", "2001:db8:4"];
const FOREIGN_PROTOCOLS = ["static", "boot", "dhcp", "42", "99"];

/** The network of an address with prefix length, `192.168.1.77/24` → `192.168.1.0/24`. */
export function networkOf(cidr: string): string {
  const [address, lenText] = cidr.split("/");
  const len = Number(lenText);
  if (!address.includes(":")) {
    const n = address.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    const net = (n & mask) >>> 0;
    return `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join(".")}/${len}`;
  }
  const [head, tail = ""] = address.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t].map((g) =>
    parseInt(g, 16)
  );
  const bits = groups.map((g, i) => {
    const keep = Math.max(0, Math.min(16, len - 16 * i));
    return keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
  });
  // Shorten the longest run of zero groups, as ip prints it.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (bits[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && bits[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = bits.map((b) => b.toString(16));
  const text = best < 0
    ? hex.join(":")
    : `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
  return `${text}/${len}`;
}

/** The kinds of step, each with how often it is drawn (relative weights, in drawing order). */
export const STEP_WEIGHTS = {
  addAddress: 14,
  delAddress: 8,
  roam: 5,
  linkDown: 4,
  linkUp: 6,
  carrierDown: 3,
  carrierUp: 4,
  mainAdd: 12,
  mainDel: 7,
  foreignAdd: 6,
  foreignDel: 4,
  copyDel: 4,
  vpnFlush: 3,
  vpnRestart: 2,
  hostile: 4,
  linkAdd: 3,
  linkDel: 2,
  sysctl: 1,
} as const;

/** A kind of step the generator makes. */
export type StepKind = keyof typeof STEP_WEIGHTS;

/** The kinds of route added to main by hand (a `mainAdd` step), with their weights. */
const MAIN_ROUTE_WEIGHTS = {
  onlink: 6,
  host: 2,
  global: 1,
  gateway: 2,
  blackhole: 1,
  multipath: 2,
  metrics: 2,
  pref6: 1,
  onlink6: 4,
  src6: 1,
  expires6: 1,
  gateway6: 1,
  lanMetric: 2,
  sameKey: 3,
  onTun: 1,
} as const;

/** The kinds of hostile LAN (a `hostile` step), with their weights. */
const HOSTILE_WEIGHTS = { split: 3, lease: 1, ra: 2, public24: 2, cgnat: 1, slaac48: 1 } as const;

/** A kind of hostile LAN. */
type HostileKind = keyof typeof HOSTILE_WEIGHTS;

/** The kinds of route the VPN adds to its table (a `foreignAdd` step), with their weights. */
const FOREIGN_ROUTE_WEIGHTS = {
  conflict: 4,
  replace: 2,
  unrelated: 2,
  onLan: 1,
  conflict6: 2,
  resource: 3,
  catchAll: 2,
} as const;

/** A kind of route the VPN adds. */
type ForeignRouteKind = keyof typeof FOREIGN_ROUTE_WEIGHTS;

/**
 * A route the VPN adds: its destination and family (default 4), its device (default tun0), the
 * verb (default add) and words after `proto` (a metric).
 */
interface ForeignRoute {
  dst: string;
  family?: 4 | 6;
  dev?: string;
  verb?: "add" | "replace";
  more?: string[];
}

/** A kind of route added to main. */
type MainRouteKind = keyof typeof MAIN_ROUTE_WEIGHTS;

/** What a route added to main is drawn for: a link that is up, the others, a small index. */
interface MainRouteContext {
  dev: string;
  link: LinkModel;
  links: string[];
  i: number;
}

/**
 * A route to add to main: the arguments after `ip route VERB` (`-6` first for IPv6), its family
 * (default 4), its device when not the drawn link (`undefined`: none), the verb (default add).
 */
interface MainRoute {
  spec: string[];
  family?: 4 | 6;
  dev?: string | undefined;
  verb?: string;
}

/** Generates the steps of a seeded run. */
export class StepGenerator {
  readonly #random: Random;
  readonly #model = initialModel();
  /**
   * One handler per kind of step: it updates the model and returns the step, or undefined when
   * the host offers nothing to do it to (then another kind is drawn).
   */
  readonly #steps: { readonly [K in StepKind]: () => Step | undefined } = {
    addAddress: () => this.#addAddress(),
    delAddress: () => this.#delAddress(),
    roam: () => this.#roam(),
    linkDown: () => this.#linkDown(),
    linkUp: () => this.#linkUp(),
    carrierDown: () => this.#carrier(false),
    carrierUp: () => this.#carrier(true),
    mainAdd: () => this.#mainAdd(),
    mainDel: () => this.#mainDel(),
    foreignAdd: () => this.#foreignAdd(),
    foreignDel: () => this.#foreignDel(),
    copyDel: () => this.#copyDel(),
    vpnFlush: () => this.#vpnFlush(),
    vpnRestart: () => this.#vpnRestart(),
    hostile: () => this.#hostile(),
    linkAdd: () => this.#linkAdd(),
    linkDel: () => this.#linkDel(),
    sysctl: () => this.#sysctl(),
  };

  /** Creates the generator for `seed`. */
  constructor(seed: number) {
    this.#random = new Random(seed);
  }

  /** The first `count` steps. */
  take(count: number): Step[] {
    const steps: Step[] = [];
    for (let i = 0; i < count; i++) steps.push(this.next());
    return steps;
  }

  /** The next step: one action, or now and then a burst of several. */
  next(): Step {
    return this.#random.chance(0.08) ? this.#burst() : this.#single();
  }

  #single(): Step {
    for (;;) {
      const made = this.#steps[this.#random.weighted(STEP_WEIGHTS)]();
      if (made) return made;
    }
  }

  /** Several actions at once, without waiting in between: a storm the daemon must coalesce. */
  #burst(): Step {
    const parts: Step[] = [];
    const count = this.#random.between(2, 6);
    while (parts.length < count) parts.push(this.#single());
    return {
      label: `burst: ${parts.map((p) => p.label).join("; ")}`,
      commands: parts.flatMap((p) => p.commands),
    };
  }

  /** A link drawn among the existing ones that pass `filter`, with its model; none: undefined. */
  #pickLink(filter: (l: LinkModel) => boolean): [string, LinkModel] | undefined {
    const links = this.#existing(filter);
    if (links.length === 0) return undefined;
    const dev = this.#random.pick(links);
    return [dev, this.#model.links.get(dev)!];
  }

  #existing(filter: (l: LinkModel) => boolean = () => true): string[] {
    return [...this.#model.links].filter(([, l]) => l.exists && filter(l)).map(([n]) => n);
  }

  #address4(): string {
    const r = this.#random;
    const subnet = r.pick(SUBNETS4);
    const host = r.between(2, 250);
    const len = r.weighted({ "24": 8, "28": 1, "16": 1 });
    return `${subnet}.${host}/${len}`;
  }

  #address6(): string {
    const r = this.#random;
    const len = r.weighted({ "64": 8, "56": 1 });
    return `${r.pick(SUBNETS6)}::${r.between(2, 0xfff).toString(16)}/${len}`;
  }

  #lanPrefixes(family: 4 | 6): string[] {
    const prefixes = new Set<string>();
    for (const l of this.#model.links.values()) {
      if (!l.exists) continue;
      for (const a of family === 4 ? l.v4 : l.v6) prefixes.add(networkOf(a));
    }
    if (family === 6) prefixes.add("fe80::/64");
    return [...prefixes];
  }

  /** Forgets routes via `dev` of `family` (undefined: both), as the kernel drops them. */
  #dropRoutesVia(dev: string, family?: 4 | 6): void {
    const keep = (m: RouteModel) => m.dev !== dev || (family !== undefined && m.family !== family);
    this.#model.main = this.#model.main.filter(keep);
    this.#model.foreign = this.#model.foreign.filter(keep);
  }

  /** An IPv4 (or IPv6) address added to a link that is up. */
  #addAddress(): Step | undefined {
    const r = this.#random;
    const picked = this.#pickLink((l) => l.up);
    if (picked === undefined) return undefined;
    const [dev, link] = picked;
    if (r.chance(0.6)) {
      const address = this.#address4();
      link.v4.push(address);
      return step(`add ${address} to ${dev}`, ["address", "add", address, "dev", dev]);
    }
    const address = this.#address6();
    link.v6.push(address);
    return step(`add ${address} to ${dev}`, [
      "-6",
      "address",
      "add",
      address,
      "dev",
      dev,
      "nodad",
    ]);
  }

  /** An address deleted; the last IPv4 one takes the IPv4 routes via the link along. */
  #delAddress(): Step | undefined {
    const r = this.#random;
    const picked = this.#pickLink((l) => l.v4.length + l.v6.length > 0);
    if (picked === undefined) return undefined;
    const [dev, link] = picked;
    const all = [...link.v4, ...link.v6];
    const address = r.pick(all);
    link.v4 = link.v4.filter((a) => a !== address);
    link.v6 = link.v6.filter((a) => a !== address);
    if (!address.includes(":") && link.v4.length === 0) this.#dropRoutesVia(dev, 4);
    return step(`delete ${address} from ${dev}`, [
      ...(address.includes(":") ? ["-6"] : []),
      "address",
      "del",
      address,
      "dev",
      dev,
    ]);
  }

  /** A laptop roams: a link's IPv4 addresses (and half the time its IPv6 ones) replaced. */
  #roam(): Step | undefined {
    const r = this.#random;
    const picked = this.#pickLink((l) => l.up);
    if (picked === undefined) return undefined;
    const [dev, link] = picked;
    const commands: StepCommand[] = link.v4.map((a) => ({
      ip: ["address", "del", a, "dev", dev],
    }));
    const next = this.#address4();
    commands.push({ ip: ["address", "add", next, "dev", dev] });
    this.#dropRoutesVia(dev, 4);
    link.v4 = [next];
    if (r.chance(0.5)) {
      for (const a of link.v6) commands.push({ ip: ["-6", "address", "del", a, "dev", dev] });
      const next6 = this.#address6();
      commands.push({ ip: ["-6", "address", "add", next6, "dev", dev, "nodad"] });
      link.v6 = [next6];
    }
    return { label: `roam ${dev} to ${next}`, commands };
  }

  /** A link set down: its IPv6 addresses and every route via it go. */
  #linkDown(): Step | undefined {
    const picked = this.#pickLink((l) => l.up);
    if (picked === undefined) return undefined;
    const [dev, link] = picked;
    link.up = false;
    link.v6 = [];
    this.#dropRoutesVia(dev);
    return step(`${dev} down`, ["link", "set", dev, "down"]);
  }

  /** A link set up again. */
  #linkUp(): Step | undefined {
    const picked = this.#pickLink((l) => !l.up);
    if (picked === undefined) return undefined;
    const [dev, link] = picked;
    link.up = true;
    return step(`${dev} up`, ["link", "set", dev, "up"]);
  }

  /** A link's carrier lost or back (the peer end set down or up). */
  #carrier(up: boolean): Step | undefined {
    const picked = this.#pickLink((l) => l.carrier !== up);
    if (picked === undefined) return undefined;
    const [dev, link] = picked;
    link.carrier = up;
    return {
      label: `${dev} carrier ${up ? "back" : "lost"}`,
      commands: [{ peer: true, ip: ["link", "set", dev, up ? "up" : "down"] }],
    };
  }

  /** A route of main deleted by hand. */
  #mainDel(): Step | undefined {
    const r = this.#random;
    const model = this.#model;
    if (model.main.length === 0) return undefined;
    const route = r.pick(model.main);
    model.main = model.main.filter((m) => m !== route);
    return step(`delete from main: ${route.spec.join(" ")}`, routeCommand("del", route.spec));
  }

  /** The VPN deletes one of its routes. */
  #foreignDel(): Step | undefined {
    const r = this.#random;
    const model = this.#model;
    if (model.foreign.length === 0) return undefined;
    const route = r.pick(model.foreign);
    model.foreign = model.foreign.filter((m) => m !== route);
    return step(
      `the VPN deletes: ${route.spec.join(" ")}`,
      routeCommand("del", route.spec),
    );
  }

  /** Someone else deletes one of our copies. */
  #copyDel(): Step | undefined {
    const r = this.#random;
    const family = r.chance(0.6) ? 4 : 6;
    const prefixes = this.#lanPrefixes(family);
    if (prefixes.length === 0) return undefined;
    const prefix = r.pick(prefixes);
    const table = r.chance(0.7) ? "{table}" : "{table2}";
    return step(`someone deletes our copy of ${prefix} in ${table}`, [
      ...(family === 6 ? ["-6"] : []),
      "route",
      "del",
      prefix,
      "table",
      table,
      "proto",
      "77",
    ]);
  }

  /** The VPN flushes its table and refills it. */
  #vpnFlush(): Step | undefined {
    const model = this.#model;
    model.foreign = [];
    return {
      label: "the VPN flushes its table and refills it",
      commands: [
        { ip: ["-4", "route", "flush", "table", "{table}"] },
        { ip: ["-6", "route", "flush", "table", "{table}"] },
        ...VPN_ROUTES.map((ip) => ({ ip })),
      ],
    };
  }

  /** The VPN restarts: tun0 deleted and created again. */
  #vpnRestart(): Step | undefined {
    this.#dropRoutesVia("tun0");
    return {
      label: "the VPN restarts: tun0 deleted and created again",
      commands: [
        { ip: ["link", "del", "tun0"] },
        { ip: ["tuntap", "add", "mode", "tun", "name", "tun0"] },
        { ip: ["link", "set", "tun0", "up"] },
        { ip: ["address", "add", "100.64.0.2/32", "dev", "tun0"] },
        ...VPN_ROUTES.map((ip) => ({ ip })),
      ],
    };
  }

  /** A new interface appears, with an IPv4 address. */
  #linkAdd(): Step | undefined {
    const r = this.#random;
    const model = this.#model;
    const names = LAN_LINKS.filter((n) => !model.links.get(n)!.exists);
    if (names.length === 0) return undefined;
    const dev = r.pick(names);
    const address = this.#address4();
    Object.assign(model.links.get(dev)!, {
      exists: true,
      up: true,
      carrier: true,
      v4: [address],
      v6: [],
    });
    return {
      label: `a new interface ${dev} with ${address}`,
      commands: [
        ...veth(dev),
        { ip: ["address", "add", address, "dev", dev] },
      ],
    };
  }

  /** An interface (not lan0) vanishes. */
  #linkDel(): Step | undefined {
    const r = this.#random;
    const model = this.#model;
    const names = this.#existing().filter((n) => n !== "lan0");
    if (names.length === 0) return undefined;
    const dev = r.pick(names);
    Object.assign(model.links.get(dev)!, { exists: false, up: false, v4: [], v6: [] });
    this.#dropRoutesVia(dev);
    return step(`interface ${dev} removed`, ["link", "del", dev]);
  }

  /** A route added to main by hand, of a kind drawn from {@linkcode MAIN_ROUTE_WEIGHTS}. */
  #mainAdd(): Step | undefined {
    const r = this.#random;
    const links = this.#existing((l) => l.up);
    if (links.length === 0) return undefined;
    const dev = r.pick(links);
    const link = this.#model.links.get(dev)!;
    const i = r.int(6);
    const made = this.#mainRoutes[r.weighted(MAIN_ROUTE_WEIGHTS)]({ dev, link, links, i });
    if (made === undefined) return undefined;
    const { spec, family = 4, verb = "add" } = made;
    const routeDev = "dev" in made ? made.dev : dev;
    const route: RouteModel = { spec, family, ...(routeDev ? { dev: routeDev } : {}) };
    this.#model.main.push(route);
    return step(`${verb} in main: ${spec.join(" ")}`, routeCommand(verb, spec));
  }

  /**
   * One handler per kind of route added to main. `ip route append|prepend|replace|change`
   * exercise the kernel's alias order and replace rules.
   */
  readonly #mainRoutes: {
    readonly [K in MainRouteKind]: (on: MainRouteContext) => MainRoute | undefined;
  } = {
    onlink: ({ dev, link, i }) => {
      const r = this.#random;
      const spec = [`10.50.${i}.0/24`, "dev", dev];
      if (r.chance(0.4)) spec.push("metric", String(r.pick([5, 100, 600])));
      if (link.v4.length > 0 && r.chance(0.3)) spec.push("src", r.pick(link.v4).split("/")[0]);
      return { spec, verb: r.weighted({ add: 6, replace: 2, change: 1 }) };
    },
    host: ({ dev, i }) => ({ spec: [`10.51.0.${i + 1}`, "dev", dev] }),
    global: ({ dev, i }) => ({ spec: [`10.52.${i}.0/24`, "dev", dev, "scope", "global"] }),
    gateway: ({ dev, i }) => ({
      spec: [`10.53.${i}.0/24`, "via", `10.99.0.${i + 1}`, "dev", dev, "onlink"],
    }),
    blackhole: ({ i }) => ({
      spec: [this.#random.pick(["blackhole", "unreachable", "prohibit"]), `10.54.${i}.0/24`],
      dev: undefined,
    }),
    multipath: ({ dev, links, i }) => {
      // On-link hops with weights: mirrored with every hop; a replace changes the weights.
      const r = this.#random;
      const other = r.pick(links);
      const weight = () => String(r.pick([1, 2, 5]));
      const spec = [`10.57.${i}.0/24`, "nexthop", "dev", dev, "weight", weight()];
      spec.push("nexthop", "dev", other, "weight", weight());
      return { spec, verb: r.weighted({ add: 3, replace: 2 }) };
    },
    metrics: ({ dev, i }) => {
      // Forwarding metrics: a change in main must reach the copy (a replace, not delete + add).
      const r = this.#random;
      const spec = [`10.58.${i}.0/24`, "dev", dev, "mtu", String(r.pick([1280, 1400, 1450]))];
      if (r.chance(0.5)) spec.push("advmss", String(r.pick([1200, 1360])));
      if (r.chance(0.3)) spec.push("hoplimit", String(r.pick([9, 33])));
      return { spec, verb: r.weighted({ add: 3, replace: 3, change: 1 }) };
    },
    pref6: ({ dev, i }) => {
      const r = this.#random;
      const spec = ["-6", `fd00:54:${i}::/64`, "dev", dev, "pref", r.pick(["low", "high"])];
      if (r.chance(0.4)) spec.push("mtu", String(r.pick([1280, 1400])));
      return { spec, family: 6, verb: r.weighted({ add: 3, replace: 3 }) };
    },
    onlink6: ({ dev, i }) => {
      const r = this.#random;
      const spec = ["-6", `fd00:50:${i}::/64`, "dev", dev];
      if (r.chance(0.4)) spec.push("metric", String(r.pick([100, 256, 2048])));
      return { spec, family: 6, verb: r.weighted({ add: 6, replace: 2, append: 1 }) };
    },
    src6: ({ dev, link, i }) => {
      if (link.v6.length === 0) return undefined;
      const src = this.#random.pick(link.v6).split("/")[0];
      return { spec: ["-6", `fd00:53:${i}::/64`, "dev", dev, "src", src], family: 6 };
    },
    // RA-style lifetime, longer than a run: the kernel's expiry and garbage collection would
    // change main behind the checks' back.
    expires6: ({ dev, i }) => ({
      spec: [
        "-6",
        `fd00:52:${i}::/64`,
        "dev",
        dev,
        "expires",
        String(this.#random.between(600, 3600)),
      ],
      family: 6,
    }),
    gateway6: ({ dev, i }) => ({
      spec: ["-6", `fd00:51:${i}::/64`, "via", "fe80::1", "dev", dev],
      family: 6,
    }),
    lanMetric: ({ dev }) => {
      const prefixes = this.#lanPrefixes(4);
      if (prefixes.length === 0) return undefined;
      const r = this.#random;
      return { spec: [r.pick(prefixes), "dev", dev, "metric", String(r.pick([50, 700]))] };
    },
    sameKey: ({ dev, i }) => {
      // A second route with the key of an existing one (same prefix and metric, other device):
      // only the first in the kernel's order may be mirrored.
      const r = this.#random;
      const prefixes = [...this.#lanPrefixes(4), `10.50.${i}.0/24`];
      return { spec: [r.pick(prefixes), "dev", dev], verb: r.weighted({ append: 2, prepend: 2 }) };
    },
    onTun: ({ i }) => ({ spec: [`10.56.${i}.0/24`, "dev", "tun0"], dev: "tun0" }),
  };

  /**
   * A hostile LAN: an on-link route for public space in main (as DHCP option 121, a router
   * advertisement or a /1 lease put there), or a /1 address. linkmirror must never copy them.
   */
  #hostile(): Step | undefined {
    const r = this.#random;
    const links = this.#existing((l) => l.up);
    if (links.length === 0) return undefined;
    const dev = r.pick(links);
    return this.#hostileSteps[r.weighted(HOSTILE_WEIGHTS)](dev);
  }

  /** One handler per kind of hostile LAN, on the drawn link `dev`. */
  readonly #hostileSteps: { readonly [K in HostileKind]: (dev: string) => Step } = {
    split: (dev) =>
      this.#hostileRoute(dev, 4, [
        this.#random.pick(["0.0.0.0/1", "128.0.0.0/1"]),
        "dev",
        dev,
        "proto",
        "dhcp",
        "metric",
        "100",
      ]),
    lease: (dev) => {
      // A DHCP lease with a /1 netmask: the kernel adds 128.0.0.0/1 on-link.
      const r = this.#random;
      const address = `130.0.${r.int(200)}.${r.between(2, 250)}/1`;
      this.#model.links.get(dev)!.v4.push(address);
      return step(`a /1 lease: ${address} on ${dev}`, ["address", "add", address, "dev", dev]);
    },
    ra: (dev) =>
      this.#hostileRoute(dev, 6, [
        "-6",
        this.#random.pick(["2000::/3", "2606:4700::/64"]),
        "dev",
        dev,
        "proto",
        "ra",
      ]),
    public24: (dev) =>
      this.#hostileRoute(dev, 4, [
        this.#random.pick(["1.1.1.0/24", "198.51.100.0/24", "8.8.8.0/24"]),
        "dev",
        dev,
      ]),
    cgnat: (dev) => this.#hostileRoute(dev, 4, ["100.64.0.0/10", "dev", dev, "metric", "300"]),
    // A global IPv6 prefix shorter than /64 around the host's own address: still refused.
    slaac48: (dev) =>
      this.#hostileRoute(dev, 6, ["-6", "2001:db8::/48", "dev", dev, "metric", "300"]),
  };

  /** The step that adds the hostile route `spec` via `dev` to main. */
  #hostileRoute(dev: string, family: 4 | 6, spec: string[]): Step {
    this.#model.main.push({ spec, family, dev });
    return step(`hostile LAN, in main: ${spec.join(" ")}`, routeCommand("add", spec));
  }

  #sysctl(): Step | undefined {
    const r = this.#random;
    const links = this.#existing();
    if (links.length === 0) return undefined;
    const dev = r.pick(links);
    const value = r.int(2);
    return {
      label: `promote_secondaries=${value} on ${dev}`,
      commands: [{ sysctl: `net.ipv4.conf.${dev}.promote_secondaries=${value}` }],
    };
  }

  /** A route of the VPN (another protocol) in one of the target tables. */
  #foreignAdd(): Step | undefined {
    const r = this.#random;
    const proto = r.pick(FOREIGN_PROTOCOLS);
    const i = r.int(6);
    const table = r.chance(0.7) ? "{table}" : "{table2}";
    const made = this.#foreignRoutes[r.weighted(FOREIGN_ROUTE_WEIGHTS)](i);
    if (made === undefined) return undefined;
    const { dst, family = 4, dev = "tun0", verb = "add", more = [] } = made;
    const spec = [
      ...(family === 6 ? ["-6"] : []),
      dst,
      "dev",
      dev,
      "table",
      table,
      "proto",
      proto,
      ...more,
    ];
    this.#model.foreign.push({ spec, family, dev });
    return step(`the VPN's table gets (${verb}): ${spec.join(" ")}`, routeCommand(verb, spec));
  }

  /** One handler per kind of route the VPN adds to its table (`i`: a small index). */
  readonly #foreignRoutes: {
    readonly [K in ForeignRouteKind]: (i: number) => ForeignRoute | undefined;
  } = {
    conflict: () => {
      const prefixes = this.#lanPrefixes(4);
      if (prefixes.length === 0) return undefined;
      const r = this.#random;
      return { dst: r.pick(prefixes), more: ["metric", String(r.pick([10, 20]))] };
    },
    replace: () => {
      const prefixes = this.#lanPrefixes(4);
      if (prefixes.length === 0) return undefined;
      return { dst: this.#random.pick(prefixes), verb: "replace" };
    },
    unrelated: (i) => ({ dst: `10.60.${i}.0/24` }),
    onLan: (i) => {
      const links = this.#existing((l) => l.up);
      if (links.length === 0) return undefined;
      return { dst: `10.61.${i}.0/24`, dev: this.#random.pick(links) };
    },
    conflict6: (i) => {
      const r = this.#random;
      const prefixes = this.#lanPrefixes(6).filter((p) => p !== "fe80::/64");
      const dst = prefixes.length > 0 && r.chance(0.7) ? r.pick(prefixes) : `2001:db8:60:${i}::/64`;
      return { dst, family: 6 };
    },
    // A resource behind the VPN covering a LAN: the VPN's route wins, the copy goes.
    resource: () => {
      const r = this.#random;
      if (r.chance(0.3)) return { dst: r.pick(["fd00::/8", "2001:db8::/32"]), family: 6 };
      return { dst: r.pick(["192.168.0.0/16", "10.0.0.0/8", "10.20.0.0/16", "172.16.0.0/12"]) };
    },
    // The VPN's split default or 2000::/3: catch-alls, copies stay.
    catchAll: () => {
      const dst = this.#random.pick(["0.0.0.0/1", "128.0.0.0/1", "2000::/3", "::/1"]);
      return { dst, family: dst.includes(":") ? 6 : 4 };
    },
  };
}

/** A LAN link `dev`: a veth pair with its other end (same name) in the peer namespace, both up. */
function veth(dev: string): StepCommand[] {
  return [
    { ip: ["link", "add", dev, "type", "veth", "peer", "name", dev, "netns", "{peer}"] },
    { ip: ["link", "set", dev, "up"] },
    { peer: true, ip: ["link", "set", dev, "up"] },
  ];
}

function step(label: string, ip: string[]): Step {
  return { label, commands: [{ ip }] };
}

/** `route VERB SPEC`, with a leading `-6` of the spec kept in front. */
function routeCommand(verb: string, spec: readonly string[]): string[] {
  return spec[0] === "-6"
    ? ["-6", "route", verb, ...spec.slice(1)]
    : ["route", verb, ...spec.filter((s) => s !== "-4")];
}

/** The steps of a seeded run: the same seed and count always give the same list. */
export function generateSteps(seed: number, count: number): Step[] {
  return new StepGenerator(seed).take(count);
}

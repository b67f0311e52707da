/**
 * The network every scenario starts from, built in a fresh namespace: eight veth pairs
 * (`lk0`/`lk0p`, … both ends up, `192.168.N.1/24` on `lkN`) standing for container and LAN
 * interfaces, and a tun device `tun0` standing for the full-tunnel VPN, whose table (Firezone's
 * 539098368 by default) holds `default dev tun0` and `100.64.0.0/11 dev tun0`.
 *
 * @module
 */

import { BenchNetns } from "./netns.ts";

/** Firezone's routing table: the target of every contender. */
export const VPN_TABLE = "539098368";

/** How many veth pairs a topology has. */
export const LINK_COUNT = 8;

/** The devices on-link routes go to: `lk0` … `lk7`. */
export const DEVS: readonly string[] = Array.from({ length: LINK_COUNT }, (_, i) => `lk${i}`);

/** What {@linkcode buildTopology} made. */
export interface Topology {
  /** The namespace. */
  ns: BenchNetns;
  /** The devices on-link routes go to. */
  devs: string[];
  /** A gateway on `lk0`'s subnet, for unrelated gateway routes. */
  gateway: string;
  /** The VPN's table. */
  table: string;
}

/** Creates a namespace with the {@linkcode DEVS} veth pairs and the VPN's tun device and table. */
export async function buildTopology(): Promise<Topology> {
  const ns = await BenchNetns.create();
  const lines: string[] = [];
  const devs = [...DEVS];
  devs.forEach((dev, i) => {
    lines.push(
      `link add ${dev} type veth peer name ${dev}p`,
      `link set ${dev} up`,
      `link set ${dev}p up`,
      `address add 192.168.${i}.1/24 dev ${dev}`,
    );
  });
  lines.push(
    "tuntap add mode tun name tun0",
    "link set tun0 up",
    "address add 100.64.0.2/32 dev tun0",
    `route add default dev tun0 table ${VPN_TABLE}`,
    `route add 100.64.0.0/11 dev tun0 table ${VPN_TABLE}`,
  );
  await ns.batch(lines);
  return { ns, devs, gateway: "192.168.0.2", table: VPN_TABLE };
}

/**
 * One entry point for the messages an rtnetlink socket receives: {@linkcode decodeRtnlMessage}
 * turns a framed {@linkcode Message} into a tagged union of routes, links, addresses, rules and
 * nexthop objects.
 *
 * @module
 */

import { type Address, decodeAddress } from "./address.ts";
import { AF, RTM } from "./constants.ts";
import { decodeLink, type Link } from "./link.ts";
import type { Message } from "./message.ts";
import { decodeNexthop, type NexthopObject } from "./nexthop.ts";
import { decodeRoute, type Route } from "./route.ts";
import { decodeRule, type Rule } from "./rule.ts";

/** Whether a message announces (or answers a dump with) an object, or its removal. */
export type RtnlOp = "new" | "del";

/**
 * A decoded rtnetlink message. `other` covers every other type (`NLMSG_*` control messages,
 * requests) and routes or addresses of families other than IPv4/IPv6 (`family` says which).
 */
export type RtnlMessage =
  | { kind: "route"; op: RtnlOp; route: Route }
  | { kind: "link"; op: RtnlOp; link: Link }
  | { kind: "address"; op: RtnlOp; address: Address }
  | { kind: "rule"; op: RtnlOp; rule: Rule }
  | { kind: "nexthop"; op: RtnlOp; nexthop: NexthopObject }
  | { kind: "other"; type: number; family?: number };

function isIp(payload: Uint8Array): boolean {
  // An empty payload is left to the decoder, which reports it as malformed.
  return payload.length === 0 || payload[0] === AF.INET || payload[0] === AF.INET6;
}

/**
 * Decodes an `RTM_NEW*`/`RTM_DEL*` message of routes, links, addresses, rules or nexthops. Throws
 * `DecodeError` when the payload is malformed; anything else is `{ kind: "other" }`.
 *
 * @example
 * ```ts
 * import { decodeRtnlMessage } from "./rtnl_message.ts";
 * import { encodeRoute } from "./route.ts";
 * const payload = encodeRoute({
 *   family: 2, table: 254, dst: "10.0.0.0", dstLen: 24, srcLen: 0, tos: 0,
 *   protocol: 2, scope: 253, type: 1, flags: 0, oif: 3,
 * });
 * const event = decodeRtnlMessage({ header: { type: 24, flags: 0, seq: 0, pid: 0 }, payload });
 * event.kind === "route" && event.op; // "new"
 * ```
 */
export function decodeRtnlMessage(message: Message): RtnlMessage {
  const { type } = message.header;
  const { payload } = message;
  switch (type) {
    case RTM.NEWROUTE:
    case RTM.DELROUTE:
      if (!isIp(payload)) return { kind: "other", type, family: payload[0] };
      return {
        kind: "route",
        op: type === RTM.NEWROUTE ? "new" : "del",
        route: decodeRoute(payload),
      };
    case RTM.NEWLINK:
    case RTM.DELLINK:
      return { kind: "link", op: type === RTM.NEWLINK ? "new" : "del", link: decodeLink(payload) };
    case RTM.NEWADDR:
    case RTM.DELADDR:
      if (!isIp(payload)) return { kind: "other", type, family: payload[0] };
      return {
        kind: "address",
        op: type === RTM.NEWADDR ? "new" : "del",
        address: decodeAddress(payload),
      };
    case RTM.NEWRULE:
    case RTM.DELRULE:
      return { kind: "rule", op: type === RTM.NEWRULE ? "new" : "del", rule: decodeRule(payload) };
    case RTM.NEWNEXTHOP:
    case RTM.DELNEXTHOP:
      return {
        kind: "nexthop",
        op: type === RTM.NEWNEXTHOP ? "new" : "del",
        nexthop: decodeNexthop(payload),
      };
    default:
      return { kind: "other", type };
  }
}

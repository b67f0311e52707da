/**
 * The rtnetlink codec of linkmirror: constants, errors, message framing, attributes, and the
 * typed route, link, address, rule and acknowledgement messages.
 *
 * @module
 */

export * from "./constants.ts";
export * from "./errors.ts";
export * from "./message.ts";
export * from "./attributes.ts";
export * from "./ip.ts";
export * from "./route.ts";
export * from "./link.ts";
export * from "./address.ts";
export * from "./rule.ts";
export * from "./ack.ts";
export * from "./rtnl_message.ts";

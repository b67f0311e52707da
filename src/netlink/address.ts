/**
 * Address messages (`struct ifaddrmsg` + `IFA_*` attributes): the typed {@linkcode Address} and its
 * codec.
 *
 * @module
 */

import type { Attribute } from "./attributes.ts";

/** An interface address as rtnetlink carries it. */
export interface Address {
  /** `AF_INET` or `AF_INET6`. */
  family: number;
  /** Interface index. */
  index: number;
  /** Prefix length. */
  prefixLen: number;
  /** Address flags (`IFA_FLAGS` when present, else the 8-bit `ifa_flags`). */
  flags: number;
  /** `ifa_scope`. */
  scope: number;
  /** `IFA_ADDRESS` as text (the peer on point-to-point links). */
  address?: string;
  /** `IFA_LOCAL` as text. */
  local?: string;
  /** `IFA_LABEL`. */
  label?: string;
  /** Attributes that are not modelled above, in order. */
  other?: Attribute[];
}

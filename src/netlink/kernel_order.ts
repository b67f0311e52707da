/**
 * Internal helper of the message codecs: puts encoded attributes in the order the kernel dumps
 * them, so that re-encoding a dumped message reproduces its bytes.
 *
 * @module
 */

import type { Attribute } from "./attributes.ts";

/**
 * Interleaves the `modelled` attributes an encoder built with the unmodelled `other` ones: the
 * modelled ones in the order of `kernelOrder` (a list of attribute types), each placed before the
 * first `other` attribute that the kernel writes later; `other` keeps its own order exactly, and
 * types missing from `kernelOrder` count as written last.
 *
 * @example
 * ```ts
 * import { inKernelOrder } from "./kernel_order.ts";
 * const a = (type: number) => ({ type, data: new Uint8Array(0) });
 * inKernelOrder([a(6), a(15)], [a(99), a(8)], [15, 6, 8]).map((x) => x.type); // [15, 6, 99, 8]
 * ```
 */
export function inKernelOrder(
  modelled: readonly Attribute[],
  other: readonly Attribute[],
  kernelOrder: readonly number[],
): Attribute[] {
  const rank = (attr: Attribute) => {
    const i = kernelOrder.indexOf(attr.type);
    return i === -1 ? kernelOrder.length : i;
  };
  const sorted = [...modelled].sort((a, b) => rank(a) - rank(b));
  const out: Attribute[] = [];
  let m = 0;
  for (const attr of other) {
    while (m < sorted.length && rank(sorted[m]) <= rank(attr)) out.push(sorted[m++]);
    out.push(attr);
  }
  while (m < sorted.length) out.push(sorted[m++]);
  return out;
}

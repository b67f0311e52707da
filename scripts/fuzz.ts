/**
 * Long-running mutation fuzzing of the rtnetlink decoders (the bounded run is
 * tests/netlink/fuzz.test.ts):
 *
 *     deno run scripts/fuzz.ts --inputs 1000000 --seed 42
 *
 * Prints the inputs tried, how many were rejected with DecodeError, and the time taken; exits 1
 * with the failing input's hex when a decoder throws anything else or a round trip is lossy.
 *
 * @module
 */

import { fuzz } from "../tests/netlink/testdata/fuzzer.ts";

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const value = Number(Deno.args[i + 1]);
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`--${name} needs a non-negative integer, got ${Deno.args[i + 1]}`);
    Deno.exit(2);
  }
  return value;
}

if (import.meta.main) {
  const inputs = flag("inputs", 1_000_000);
  const seed = flag("seed", Date.now() % 1_000_000);
  try {
    const report = fuzz({ inputs, seed });
    console.log(
      `seed ${seed}: ${report.inputs} inputs tried, ${report.decodeErrors} decode errors, ` +
        `${(report.ms / 1000).toFixed(1)} s`,
    );
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(1);
  }
}

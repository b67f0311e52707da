/**
 * linkmirror: keeps LAN routes working under a full-tunnel VPN by mirroring the on-link routes of
 * `main` into the VPN's routing table. This is the executable's entry point.
 *
 * @module
 */

import { CommandFailure } from "./src/cli/commands.ts";
import { EXIT } from "./src/cli/exit_codes.ts";
import { runCli } from "./src/cli/program.ts";
import { handlers } from "./src/cli/handlers.ts";

if (import.meta.main) {
  let code: number;
  try {
    code = await runCli(Deno.args, { handlers });
  } catch (e) {
    if (e instanceof CommandFailure) {
      console.error(`linkmirror: ${e.message}`);
      code = EXIT.FAILURE;
    } else {
      throw e;
    }
  }
  Deno.exit(code);
}

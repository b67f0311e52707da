/**
 * linkmirror: keeps LAN routes working under a full-tunnel VPN by mirroring the on-link routes of
 * `main` into the VPN's routing table. This is the executable's entry point.
 *
 * @module
 */

import { runCli } from "./src/cli/program.ts";
import { handlers } from "./src/cli/handlers.ts";

if (import.meta.main) Deno.exit(await runCli(Deno.args, { handlers }));

/**
 * install.sh `--prefix` for real: in a private mount namespace with fresh tmpfs over `/opt`,
 * `/etc/default` and `/etc/systemd/system` (so the host's files are neither seen nor touched),
 * `install.sh --prefix /opt/lmt-prefix --no-service` installs the program there, the unit's
 * `ExecStart` and the launcher follow the prefix, and the installed program, run from the prefix,
 * takes the LAN out of the tunnel in the Firezone scenario. `--uninstall --prefix` then removes
 * every file. The mount namespace, and everything in it, ends with the script.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { kernelTest } from "./netns.ts";
import { firezone, FIREZONE_TABLE, LAN, routeDevice, tableRoutes } from "./firezone.ts";

const REPO = new URL("../..", import.meta.url).pathname;
const PREFIX = "/opt/lmt-prefix";

/** Splits the script's output into its `### name` sections. */
function sections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let name = "";
  for (const line of stdout.split("\n")) {
    const head = /^### (.+)$/.exec(line);
    if (head) name = head[1];
    else out.set(name, (out.get(name) ?? "") + line + "\n");
  }
  return out;
}

const SCRIPT = `set -eu
mount -t tmpfs tmpfs /opt
mount -t tmpfs tmpfs /etc/default
mount -t tmpfs tmpfs /etc/systemd/system
sh "$REPO/install.sh" --prefix "$PREFIX" --no-service >&2
echo "### files"; find /opt /etc/default /etc/systemd/system -type f | sort
echo "### execstart"; grep '^ExecStart=' /etc/systemd/system/linkmirror.service
echo "### script"; grep '^SCRIPT=' "$PREFIX/bin/linkmirror" || echo "(a compiled binary)"
echo "### version"; ip netns exec "$NS" "$PREFIX/bin/linkmirror" --version
echo "### sync"; ip netns exec "$NS" "$PREFIX/bin/linkmirror" sync 2>&1
echo "### uninstall"; sh "$REPO/install.sh" --uninstall --prefix "$PREFIX" >&2
echo "### left"; find /opt /etc/default /etc/systemd/system -mindepth 1 | sort
`;

kernelTest(
  "install.sh --prefix: the program installed there runs the Firezone scenario, then uninstalls",
  async (ns) => {
    await firezone(ns);
    equal(await routeDevice(ns, LAN.peer), "tun0");
    const run = await new Deno.Command("unshare", {
      args: ["--mount", "--propagation", "private", "sh", "-c", SCRIPT],
      env: { REPO, PREFIX, NS: ns.name },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    const stdout = new TextDecoder().decode(run.stdout);
    const detail = `${stdout}\n--- stderr\n${new TextDecoder().decode(run.stderr)}`;
    equal(run.code, 0, detail);
    const out = sections(stdout);

    const files = out.get("files")!.trim().split("\n").sort();
    const bundle = files.includes(`${PREFIX}/lib/linkmirror/linkmirror.js`);
    // The bundle's chunks, as the build install.sh ran left them in dist/.
    const chunks = bundle
      ? [...Deno.readDirSync(`${REPO}dist/linkmirror-chunks`)]
        .map((e) => `${PREFIX}/lib/linkmirror/linkmirror-chunks/${e.name}`)
      : [];
    deepEqual(
      files,
      [
        "/etc/default/linkmirror",
        "/etc/systemd/system/linkmirror.service",
        `${PREFIX}/bin/linkmirror`,
        `${PREFIX}/lib/linkmirror/installed`,
        ...(bundle ? [`${PREFIX}/lib/linkmirror/linkmirror.js`, ...chunks] : []),
      ].sort(),
      detail,
    );
    equal(out.get("execstart")!.trim(), `ExecStart=${PREFIX}/bin/linkmirror watch`);
    if (bundle) equal(out.get("script")!.trim(), `SCRIPT='${PREFIX}/lib/linkmirror/linkmirror.js'`);
    equal(
      out.get("version")!.trim(),
      JSON.parse(Deno.readTextFileSync(`${REPO}deno.json`)).version,
    );
    match(out.get("sync")!, /[1-9]\d* added/, detail);
    equal(await routeDevice(ns, LAN.peer), LAN.dev, "the LAN leaves the tunnel");
    equal(await routeDevice(ns, LAN.peer6), LAN.dev, "the IPv6 LAN too");
    const copies = (await tableRoutes(ns)).filter((r) => r.protocol === "77").map((r) => r.dst);
    ok(copies.includes(LAN.prefix) && copies.includes(LAN.prefix6), `copies in ${FIREZONE_TABLE}`);
    equal(out.get("left")!.trim(), "", "--uninstall --prefix removed everything");
  },
  { timeoutMs: 150_000 },
);

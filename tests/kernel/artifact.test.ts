/**
 * The built artifact (`deno task compile` into a temporary directory: the compiled binary, or the
 * bundle and its launcher where `deno compile` cannot download its runtime) against the real
 * kernel, in the Firezone scenario: a veth to a LAN peer namespace, a tun device, table
 * 539098368 with `default dev tun0` and the rule `not fwmark 0xfd002021 table 539098368`. Before
 * `sync` the kernel sends the LAN peer into the tunnel; after it, out of the veth. And the
 * principle behind the service's `DynamicUser=`: an unprivileged user with nothing but an
 * ambient CAP_NET_ADMIN can change the routes; without it, exit 1 with one clear line.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { kernelTest, type Netns, waitFor } from "./netns.ts";
import { copyRoutes } from "./firezone.ts";

const REPO = new URL("../..", import.meta.url).pathname;
const TABLE = "539098368";
// A private LAN: linkmirror mirrors only local address space (see docs/security.md).
const LAN = { local: "192.168.2.1/24", peer: "192.168.2.2/24", peerAddress: "192.168.2.2" };

interface Artifact {
  /** The executable to run: the binary or the launcher. */
  executable: string;
  /** `binary` or `bundle`. */
  kind: "binary" | "bundle";
  /** What the build printed. */
  log: string;
}

/**
 * Builds the artifact for this machine with `scripts/compile.ts` (what `deno task compile` runs)
 * into `dir`, where any user can run it.
 */
async function buildArtifact(dir: string): Promise<Artifact> {
  await Deno.chmod(dir, 0o755);
  const build = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${REPO}scripts/compile.ts`,
      "--out-dir",
      dir,
      "--target",
      Deno.build.target,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(50_000),
  }).output();
  const log = new TextDecoder().decode(build.stderr);
  ok(build.success, `the build failed:\n${log}`);
  const executable = `${dir}/linkmirror`;
  const head = new Uint8Array(2);
  using file = await Deno.open(executable);
  await file.read(head);
  const kind = head[0] === 0x23 && head[1] === 0x21 ? "bundle" : "binary";
  return { executable, kind, log };
}

/** Runs `fn` with a freshly built artifact, deleted afterwards. */
async function withArtifact(fn: (artifact: Artifact) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "lmt-artifact-" });
  try {
    await fn(await buildArtifact(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

interface RouteGet {
  dev: string;
  table?: string;
}

/** The Firezone scenario in `ns`; returns the LAN peer's namespace. */
async function firezone(ns: Netns): Promise<Netns> {
  const peer = await ns.connectPeer({
    localIf: "veth-lan",
    peerIf: "veth-lan",
    localAddress: LAN.local,
    peerAddress: LAN.peer,
  });
  await ns.ip("tuntap", "add", "mode", "tun", "dev", "tun0");
  await ns.ip("link", "set", "tun0", "up");
  await ns.ip("address", "add", "100.64.0.2/32", "dev", "tun0");
  await ns.ip("route", "add", "default", "dev", "tun0", "table", TABLE);
  await ns.ip("rule", "add", "not", "fwmark", "0xfd002021", "table", TABLE, "pref", "32765");
  return peer;
}

async function routeGet(ns: Netns, address: string): Promise<RouteGet> {
  const [route] = await ns.ipJson<RouteGet[]>("route", "get", address);
  return route;
}

kernelTest(
  "the built artifact: sync in the Firezone scenario takes the LAN out of the tunnel",
  (ns) =>
    withArtifact(async (built) => {
      if (built.kind === "bundle") {
        // The fallback is announced in exactly one line.
        const lines = built.log.split("\n").filter((l) => /cannot download its runtime/.test(l));
        equal(lines.length, 1, built.log);
      }
      await firezone(ns);
      equal((await routeGet(ns, LAN.peerAddress)).dev, "tun0");

      const version = await ns.exec([built.executable, "--version"]);
      equal(version.code, 0, version.stderr);
      equal(version.stdout.trim(), JSON.parse(Deno.readTextFileSync(`${REPO}deno.json`)).version);

      const sync = await ns.exec([built.executable, "sync", "--log-format", "json"]);
      equal(sync.code, 0, `${sync.stdout}\n${sync.stderr}`);
      const after = await routeGet(ns, LAN.peerAddress);
      equal(after.dev, "veth-lan");
      equal(after.table, TABLE);
      const copies = await copyRoutes(ns, TABLE);
      deepEqual(copies.map((r) => [r.dst, r.dev]), [["192.168.2.0/24", "veth-lan"]]);
      // Logs are JSON Lines on stderr, as the journal gets them.
      const log = sync.stderr.trim().split("\n").map((line) => JSON.parse(line));
      ok(log.some((entry) => entry.severity === "INFO" && typeof entry.time === "string"));

      const again = await ns.exec([built.executable, "sync"]);
      equal(again.code, 0, again.stderr);
      match(again.stdout, /0 added, 0 replaced, 0 deleted/);

      const bad = await ns.exec([built.executable, "sync", "--table", "no-such-table"]);
      equal(bad.code, 2, bad.stderr);

      const flush = await ns.exec([built.executable, "flush"]);
      equal(flush.code, 0, flush.stderr);
      equal((await routeGet(ns, LAN.peerAddress)).dev, "tun0");
      const left = await ns.ipJson<{ dst: string; dev: string }[]>("route", "show", "table", TABLE);
      deepEqual(left.map((r) => [r.dst, r.dev]), [["default", "tun0"]]);
    }),
);

kernelTest(
  "the built artifact as an unprivileged user: CAP_NET_ADMIN alone suffices",
  (ns) =>
    withArtifact(async (built) => {
      await firezone(ns);
      // What the service's DynamicUser= gets: some uid, HOME=/, no capability but the ambient one.
      const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
      const env = { HOME: "/" };

      const denied = await ns.exec([...nobody, built.executable, "sync"], { env });
      equal(denied.code, 1, `${denied.stdout}\n${denied.stderr}`);
      match(denied.stderr, /CAP_NET_ADMIN/);
      equal((await routeGet(ns, LAN.peerAddress)).dev, "tun0");

      const allowed = await ns.exec(
        [...nobody, "--inh-caps=+net_admin", "--ambient-caps=+net_admin", built.executable, "sync"],
        { env },
      );
      equal(allowed.code, 0, `${allowed.stdout}\n${allowed.stderr}`);
      equal((await routeGet(ns, LAN.peerAddress)).dev, "veth-lan");
    }),
);

kernelTest(
  "the built artifact writes its state file where LINKMIRROR_STATE_FILE says, and status reads it",
  (ns) =>
    withArtifact(async (built) => {
      await firezone(ns);
      const dir = await Deno.makeTempDir({ prefix: "lmt-artifact-state-" });
      try {
        const env = { LINKMIRROR_STATE_FILE: `${dir}/state.json`, LINKMIRROR_LOG_FORMAT: "json" };
        const watch = ns.spawn([built.executable, "watch"], { env });
        if (built.kind === "binary") {
          // Its permissions are compiled in: it may write /run/linkmirror only, and says so.
          await watch.waitForLine(/Cannot write the state file/, { timeoutMs: 30_000 });
          return;
        }
        await waitFor(() => Deno.statSync(`${dir}/state.json`).isFile, {
          timeoutMs: 30_000,
          message: "the state file",
        });
        ok(!watch.stderrLines.some((l) => /Cannot write the state file/.test(l)), watch.output());
        const status = await ns.exec([built.executable, "status", "--json"], { env });
        equal(status.code, 0, status.stderr);
        const doc = JSON.parse(status.stdout);
        equal(doc.stateFile, `${dir}/state.json`);
        equal(doc.daemon?.running, true, status.stdout);
        // --state-file names it as well, with exactly that directory granted.
        const byFlag = await ns.exec([
          built.executable,
          "status",
          "--json",
          "--state-file",
          `${dir}/state.json`,
        ]);
        equal(JSON.parse(byFlag.stdout).daemon?.running, true, byFlag.stderr);
        // --state-dir: status reads every state file there, the directory granted likewise.
        const byDir = await ns.exec([built.executable, "status", "--json", "--state-dir", dir]);
        equal(JSON.parse(byDir.stdout).daemon?.running, true, byDir.stderr);
        equal((await watch.stop()).code, 0, watch.output());
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
);

/** Tests of the namespace fixture itself: isolation, cleanup, peers, processes, waitFor. */

import { equal, notEqual, ok, rejects } from "node:assert/strict";
import { kernelTest, Netns, type NetnsProcess, waitFor, WaitTimeoutError } from "./netns.ts";

kernelTest("commands run inside the namespace, not the host's", async (ns) => {
  ok(ns.name.startsWith("lmt-"));
  const inside = await ns.exec(["readlink", "/proc/self/ns/net"]);
  ok(inside.success, inside.stderr);
  notEqual(inside.stdout.trim(), await Deno.readLink("/proc/self/ns/net"));
  const links = await ns.ipJson<{ ifname: string }[]>("link", "show");
  equal(links.map((l) => l.ifname).join(), "lo");
  const env = await ns.exec(["sh", "-c", 'echo "$LMT_NETNS"']);
  equal(env.stdout.trim(), ns.name);
});

kernelTest("dispose deletes the namespace and its peer, and stops spawned processes", async () => {
  const ns = await Netns.create();
  let peer: Netns;
  let sleeper: NetnsProcess | undefined;
  try {
    peer = await ns.connectPeer({ localAddress: "192.0.2.1/24", peerAddress: "192.0.2.2/24" });
    const ping = await ns.exec(["ping", "-c", "1", "-W", "2", "192.0.2.2"]);
    ok(ping.success, `ping across the veth pair failed: ${ping.stdout}${ping.stderr}`);
    sleeper = ns.spawn(["sleep", "600"]);
  } finally {
    await ns.dispose();
  }
  ok(sleeper.exited, "the spawned process was reaped");
  const list = new TextDecoder().decode(
    (await new Deno.Command("ip", { args: ["netns", "list"] }).output()).stdout,
  );
  ok(!list.includes(ns.name) && !list.includes(peer.name), list);
  await rejects(() => ns.ip("link"), /disposed/);
});

kernelTest("exec kills a command that runs past its timeout", async (ns) => {
  const result = await ns.exec(["sleep", "600"], { timeoutMs: 100 });
  ok(result.timedOut);
  ok(!result.success);
  equal(result.code, 137, "killed by SIGKILL");
});

kernelTest(
  "spawn exposes stderr lines and waitForLine fails early when the process exits",
  async (ns) => {
    const proc = ns.spawn(["sh", "-c", "echo one >&2; echo two >&2; exit 3"]);
    equal(await proc.waitForLine(/^two$/), "two");
    equal((await proc.status).code, 3);
    await rejects(() => proc.waitForLine(/never/, { timeoutMs: 10_000 }), /exited \(code 3\)/);
  },
);

Deno.test("waitFor returns the first truthy value and times out with a clear error", async () => {
  let calls = 0;
  equal(await waitFor(() => ++calls >= 3 && calls, { intervalMs: 1 }), 3);
  await rejects(
    () => waitFor(() => false, { timeoutMs: 30, intervalMs: 5, message: "never" }),
    (e) => e instanceof WaitTimeoutError && /never/.test(e.message),
  );
});

/**
 * Leftovers of an interrupted run, removed whatever ended it. {@linkcode startReaper} starts,
 * once per name prefix, a small shell process that ignores SIGINT/SIGTERM/SIGHUP and waits for
 * the end of a pipe from this process; when this process ends in any way (normally, Ctrl-C,
 * SIGTERM, SIGKILL, a crash), the pipe closes and the reaper kills every process in the network
 * namespaces whose name starts with the prefix and deletes them. The prefix must name this run
 * only (e.g. contain the process id). Used by the kernel tests' and the benchmark's namespaces.
 *
 * @example
 * ```ts ignore
 * const prefix = `lmt-${Deno.pid}-`;
 * startReaper(prefix);
 * await new Deno.Command("ip", { args: ["netns", "add", `${prefix}a`] }).output();
 * ```
 *
 * @module
 */

const SCRIPT = `trap '' INT TERM HUP
cat >/dev/null
for ns in $(ip netns list 2>/dev/null | cut -d' ' -f1); do
  case $ns in "$1"*) ;; *) continue ;; esac
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
  ip netns del "$ns" 2>/dev/null
done`;

const reapers = new Map<string, WritableStreamDefaultWriter<Uint8Array>>();

/** Starts the reaper of namespaces named `prefix*` unless it runs already (see the module doc). */
export function startReaper(prefix: string): void {
  if (reapers.has(prefix)) return;
  const child = new Deno.Command("sh", {
    args: ["-c", SCRIPT, "netns-reaper", prefix],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  // Held open for the life of this process: its end is the reaper's signal.
  reapers.set(prefix, child.stdin.getWriter());
}

/**
 * Sends SIGKILL to every process in namespace `name` (what `ip netns pids` lists) until none is
 * left, so that deleting the namespace really frees it and nothing outlives a test.
 */
export async function killNamespaceProcesses(name: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const out = await new Deno.Command("ip", {
      args: ["netns", "pids", name],
      stdout: "piped",
      stderr: "null",
    }).output();
    const pids = new TextDecoder().decode(out.stdout).split(/\s+/).filter(Boolean);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The README's two set-up commands, run as a newcomer would: on a fresh copy of the repository
 * (the files `git ls-files` knows, tracked or new, without dist/ or any cache), in a throwaway
 * root: an overlay over this machine's `/` whose writes land in a tmpfs and vanish, inside a
 * private mount namespace and an empty network namespace (so `install.sh`'s `linkmirror sync`
 * and every test see no host route). As root it expects both commands to exit 0 and the test
 * command to end `N passed, 0 failed`; then, as an unprivileged user, it expects the test command
 * to exit 0 and say what it skipped and why.
 *
 * Not part of `deno task test` (it runs that whole suite itself, twice): `deno task test:readme`,
 * which `.ci/run` runs after the suite. What it cannot cover is printed at the end: the throwaway
 * root is this machine's, so Deno, iproute2 and the test tools are already there (scripts/deps.sh
 * finds nothing to install) and Deno's module cache is warm; no systemd runs, so `install.sh`
 * takes its no-systemd path (`linkmirror sync` once).
 *
 * @module
 */

import { deepEqual, equal, match } from "node:assert/strict";
import { setupLines } from "../docs/doc_commands.ts";
import { skipUnless } from "../_fixtures/skip.ts";

const REPO = new URL("../..", import.meta.url).pathname;

const hasSudo = new Deno.Command("sh", { args: ["-c", "command -v sudo"], stdout: "null" })
  .outputSync().success;

/**
 * The script run in the new mount and network namespaces: the overlay root, the fresh copy, the
 * commands as root, then the test command as nobody. Sections are marked `### name: exit CODE`.
 */
function script(lines: string[]): string {
  const asRoot = lines.map((l) => hasSudo ? l : l.replace(/^sudo\s+/, ""));
  const asNobody = lines[1].replace(/^sudo\s+/, "");
  return `set -u
mount -t tmpfs -o size=6g tmpfs /mnt
mkdir /mnt/upper /mnt/work /mnt/root
mount -t overlay overlay -o lowerdir=/,upperdir=/mnt/upper,workdir=/mnt/work /mnt/root
mount --rbind /dev /mnt/root/dev
mount -t proc proc /mnt/root/proc
mount -t sysfs sysfs /mnt/root/sys
mount -t tmpfs tmpfs /mnt/root/run
mount -t tmpfs tmpfs /mnt/root/tmp
ip link set lo up
# A fresh copy: what a clone has (tracked files, and new ones not ignored), nothing built.
mkdir -p /mnt/root/srv/linkmirror
git -C "$REPO" ls-files -z -co --exclude-standard |
  grep -zv -e '^dist/' -e '^node_modules/' |
  tar -C "$REPO" --null -T - -cf - | tar -C /mnt/root/srv/linkmirror -xf -
# Deno's cache for the unprivileged run (root's is not readable by others).
cp -r "$DENO_CACHE" /mnt/root/tmp/nobody-deno && chown -R 65534:65534 /mnt/root/tmp/nobody-deno
mkdir -p /mnt/root/tmp/nobody-home && chown 65534:65534 /mnt/root/tmp/nobody-home
# The overlay becomes this mount namespace's root (pivot_root, not chroot: the kernel refuses new
# user namespaces to a chrooted process, and some tests make one).
cd /mnt/root && mkdir -p .oldroot && pivot_root . .oldroot && cd / && umount -l /.oldroot
exec env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root sh -c '
  cd /srv/linkmirror
  ${asRoot.map((l, i) => `echo "### root ${i + 1}"; ${l}; echo "### exit $?"`).join("\n  ")}
  chown -R 65534:65534 /srv/linkmirror
  echo "### nobody"
  setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp/nobody-home \\
    DENO_DIR=/tmp/nobody-deno ${asNobody}
  echo "### exit $?"
' 2>&1
`;
}

/** The output of each `### name` section and its exit code. */
function sections(output: string): Map<string, { text: string; code: number }> {
  const out = new Map<string, { text: string; code: number }>();
  let name = "";
  let text = "";
  for (const line of output.split("\n")) {
    const head = /^### (root \d|nobody)$/.exec(line);
    const exit = /^### exit (\d+)$/.exec(line);
    if (head) {
      name = head[1];
      text = "";
    } else if (exit && name) {
      out.set(name, { text, code: Number(exit[1]) });
      name = "";
    } else {
      text += line + "\n";
    }
  }
  return out;
}

Deno.test({
  ...skipUnless(
    "README: the two set-up commands work first time on a fresh copy in a throwaway root",
    Deno.uid() === 0 ? null : "needs root (mount and network namespaces)",
  ),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lines = setupLines(Deno.readTextFileSync(`${REPO}README.md`));
    equal(lines.length, 2, `exactly two set-up commands: ${JSON.stringify(lines)}`);
    match(lines[0], /install\.sh$/);
    match(lines[1], /deno task test$/);
    const denoCache = Deno.env.get("DENO_DIR") ??
      `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`;
    const run = await new Deno.Command("unshare", {
      args: ["--mount", "--net", "--propagation", "private", "sh", "-c", script(lines)],
      env: { REPO, DENO_CACHE: denoCache },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30 * 60_000),
    }).output();
    const output = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
    const parts = sections(output);
    const tail = (name: string) => (parts.get(name)?.text ?? "").split("\n").slice(-40).join("\n");

    // Every part is judged, so that one failure does not hide another.
    const summary = (name: string) =>
      (parts.get(name)?.text ?? "").split("\n").filter((l) => /^\d+ (passed|skipped)/.test(l))
        .join(" / ");
    const problems: string[] = [];
    const expect = (name: string, what: string, checks: RegExp[]) => {
      const part = parts.get(name);
      if (!part) problems.push(`${what} did not run:\n${output.slice(-4000)}`);
      else if (part.code !== 0) problems.push(`${what}: exit ${part.code}:\n${tail(name)}`);
      else {
        for (const check of checks) {
          if (!check.test(part.text)) problems.push(`${what}: no line ${check}:\n${tail(name)}`);
        }
      }
    };
    expect("root 1", lines[0], []);
    expect("root 2", `${lines[1]} as root`, [/^\d+ passed, 0 failed$/m, /^0 skipped$/m]);
    expect("nobody", `${lines[1]} as nobody`, [
      /^\d+ passed, 0 failed$/m,
      /^\d+ skipped: needs root \(\d+\)/m,
    ]);
    console.log(
      [
        `README set-up, as root: ${lines[0]} → exit ${parts.get("root 1")?.code}; ` +
        `${lines[1]} → exit ${parts.get("root 2")?.code}: ${summary("root 2")}`,
        `as nobody: ${lines[1].replace(/^sudo\s+/, "")} → exit ${parts.get("nobody")?.code}: ` +
        summary("nobody"),
        "Not covered here: a host without Deno, iproute2, ping or systemd-analyze " +
        "(scripts/deps.sh's apt-get and npm path), an empty Deno cache (npm downloads), " +
        "a host running systemd (install.sh starts the service there; here it mirrors once)" +
        (hasSudo ? "" : "; sudo (not installed here: the lines ran as root without it)"),
      ].join("\n"),
    );
    deepEqual(problems, []);
  },
});

/**
 * What the documentation tells people to type, extracted so that tests can check it: the shell
 * lines of README.md and docs/*.md (fenced `sh`/`bash`/`shell` blocks, and the `$ ` lines of
 * `console` blocks), split into simple commands and words, and the inline code spans of the prose
 * and tables. Pure: files are read by the caller.
 *
 * @example
 * ```ts ignore
 * for (const cmd of shellCommands("docs/usage.md", Deno.readTextFileSync("docs/usage.md"))) {
 *   console.log(cmd.line, cmd.argv);
 * }
 * ```
 *
 * @module
 */

/** One simple command of a documented shell line. */
export interface DocCommand {
  /** The file it is in, relative to the repository. */
  file: string;
  /** Line number of the (first line of the) shell line. */
  line: number;
  /** The whole shell line as documented (continuations joined). */
  text: string;
  /** Its words, quotes removed, without a leading `sudo` and `VAR=value` assignments. */
  argv: string[];
  /** `VAR=value` assignments in front of the command. */
  env: Record<string, string>;
}

/** One inline code span of the prose or a table. */
export interface DocSpan {
  /** The file it is in. */
  file: string;
  /** Its line number. */
  line: number;
  /** The code, without the backticks. */
  code: string;
}

/** The documentation files: README.md and every docs/*.md, relative to `repo`. */
export function docFiles(repo: string): string[] {
  const docs = [...Deno.readDirSync(`${repo}docs`)]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`)
    .sort();
  return ["README.md", ...docs];
}

const SHELL_LANGS = new Set(["sh", "bash", "shell"]);

/** A fenced block: its info string, first content line number and lines. */
interface Fence {
  lang: string;
  start: number;
  lines: string[];
}

function fences(markdown: string): { blocks: Fence[]; prose: [number, string][] } {
  const blocks: Fence[] = [];
  const prose: [number, string][] = [];
  let open: { marker: string; fence: Fence } | null = null;
  markdown.split("\n").forEach((text, i) => {
    const marker = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(text);
    if (open) {
      if (marker && marker[1][0] === open.marker[0] && marker[1].length >= open.marker.length) {
        blocks.push(open.fence);
        open = null;
      } else {
        open.fence.lines.push(text);
      }
    } else if (marker) {
      open = { marker: marker[1], fence: { lang: marker[2], start: i + 2, lines: [] } };
    } else {
      prose.push([i + 1, text]);
    }
  });
  return { blocks, prose };
}

/** Shell lines of the fenced blocks: `[line number, text]`, continuations and quotes joined. */
export function shellLines(markdown: string): [number, string][] {
  const out: [number, string][] = [];
  for (const block of fences(markdown).blocks) {
    const console = block.lang === "console";
    if (!console && !SHELL_LANGS.has(block.lang)) continue;
    let pending: [number, string] | null = null;
    let continued = false;
    block.lines.forEach((raw, i) => {
      const number = block.start + i;
      let text = raw;
      if (!pending) {
        if (console) {
          if (!text.startsWith("$ ")) return;
          text = text.slice(2);
        }
        if (text.trim() === "" || text.trim().startsWith("#")) return;
        pending = [number, text];
      } else {
        pending[1] += (continued ? " " : "\n") + text;
      }
      const joined = pending[1];
      continued = joined.endsWith("\\");
      if (continued) {
        pending[1] = joined.slice(0, -1);
        return;
      }
      if (!quotesBalanced(joined)) return;
      out.push(pending);
      pending = null;
    });
    if (pending) out.push(pending);
  }
  return out;
}

function quotesBalanced(text: string): boolean {
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = "";
      else if (c === "\\" && quote === '"') i++;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === "\\") {
      i++;
    } else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]))) {
      return true; // A comment: its quotes do not count.
    }
  }
  return quote === "";
}

/**
 * Splits a shell line into simple commands (at `|`, `;`, `&&`, `||`, newlines) and each into
 * words: quotes removed, comments and redirections dropped. Enough for documentation, not a shell.
 */
export function splitShell(text: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | null = null;
  let quoted = false;
  let skipNext = false;
  const endWord = () => {
    if (word === null) return;
    const redirection = quoted ? null : /^\d*(>>?|<)(&?\d*)(.*)$/.exec(word);
    if (skipNext) skipNext = false;
    else if (redirection) skipNext = redirection[2] === "" && redirection[3] === "";
    else words.push(word);
    word = null;
    quoted = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length) commands.push(words);
    words = [];
    skipNext = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      const stop = end < 0 ? text.length : end;
      word = (word ?? "") + text.slice(i + 1, stop);
      quoted = true;
      i = stop;
    } else if (c === "\\" && i + 1 < text.length) {
      word = (word ?? "") + text[++i];
    } else if (c === "#" && word === null) {
      const end = text.indexOf("\n", i);
      if (end < 0) break;
      i = end - 1;
    } else if (c === "|" || c === ";" || c === "\n" || (c === "&" && text[i + 1] === "&")) {
      if ((c === "|" || c === "&") && text[i + 1] === c) i++;
      endCommand();
    } else if (/\s/.test(c)) {
      endWord();
    } else {
      word = (word ?? "") + c;
    }
  }
  endCommand();
  return commands;
}

/** `argv` without a leading `sudo`, `exec` and `VAR=value` assignments (returned in `env`). */
function stripPrefix(words: string[]): { argv: string[]; env: Record<string, string> } {
  const env: Record<string, string> = {};
  let argv = words;
  for (;;) {
    if (argv[0] === "sudo" || argv[0] === "exec") argv = argv.slice(1);
    else if (/^[A-Z_][A-Z0-9_]*=/.test(argv[0] ?? "")) {
      const at = argv[0].indexOf("=");
      env[argv[0].slice(0, at)] = argv[0].slice(at + 1);
      argv = argv.slice(1);
    } else return { argv, env };
  }
}

/**
 * The commands a command runs: itself, and what it wraps (`sh -c SCRIPT`, `ip netns exec NAME
 * CMD`, `perf record ... -- CMD`), recursively.
 */
function unwrap(words: string[]): { argv: string[]; env: Record<string, string> }[] {
  const { argv, env } = stripPrefix(words);
  if (argv.length === 0) return [];
  if ((argv[0] === "sh" || argv[0] === "bash") && argv[1] === "-c" && argv[2] !== undefined) {
    return splitShell(argv[2]).flatMap(unwrap);
  }
  if (argv[0] === "ip" && argv[1] === "netns" && argv[2] === "exec" && argv.length > 4) {
    return [{ argv: argv.slice(0, 4), env }, ...unwrap(argv.slice(4))];
  }
  const dashes = argv.indexOf("--");
  if (argv[0] === "perf" && dashes > 0) {
    return [{ argv: argv.slice(0, dashes), env }, ...unwrap(argv.slice(dashes + 1))];
  }
  return [{ argv, env }];
}

/**
 * The simple commands of every shell line of `markdown` (see {@linkcode splitShell}), with the
 * commands they wrap (`sh -c`, `ip netns exec`, `perf record --`).
 */
export function shellCommands(file: string, markdown: string): DocCommand[] {
  const out: DocCommand[] = [];
  for (const [line, text] of shellLines(markdown)) {
    for (const words of splitShell(text)) {
      for (const { argv, env } of unwrap(words)) out.push({ file, line, text, argv, env });
    }
  }
  return out;
}

/** The inline code spans outside fenced blocks (a span never crosses a line: see the tests). */
export function inlineSpans(file: string, markdown: string): DocSpan[] {
  const out: DocSpan[] = [];
  for (const [line, text] of fences(markdown).prose) {
    for (const m of text.matchAll(/(`+)(.+?)\1/g)) out.push({ file, line, code: m[2].trim() });
  }
  return out;
}

/** Prose lines with an odd number of backticks: an inline code span wrapped across lines. */
export function wrappedSpans(markdown: string): number[] {
  return fences(markdown).prose
    .filter(([, text]) => (text.match(/`/g) ?? []).length % 2 === 1)
    .map(([line]) => line);
}

/** Relative link targets of the prose (`[text](target)`), without `#fragment`s. */
export function relativeLinks(markdown: string): [number, string][] {
  const out: [number, string][] = [];
  for (const [line, text] of fences(markdown).prose) {
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1].split("#")[0];
      if (target && !/^[a-z]+:/.test(target)) out.push([line, target]);
    }
  }
  return out;
}

/**
 * The `linkmirror` invocations a documentation line shows: the words after `linkmirror`, with
 * `[optional]` brackets dropped (`linkmirror plan [--json]` → `["plan", "--json"]`).
 */
export function linkmirrorArgs(argv: string[]): string[] | null {
  let rest: string[];
  if (argv[0] === "linkmirror" || argv[0]?.endsWith("/linkmirror")) {
    rest = argv.slice(1);
  } else if (argv[0] === "deno" && argv[1] === "run" && argv.includes("main.ts")) {
    rest = argv.slice(argv.indexOf("main.ts") + 1); // From source: `deno run -A main.ts ARGS`.
  } else {
    return null;
  }
  return rest.map((w) => w.replace(/^\[+|\]+$/g, "")).filter(Boolean);
}

/** The shell lines of the README's first `sh` block after its "## Set up" heading, uncommented. */
export function setupLines(readme: string): string[] {
  const at = readme.search(/^## Set up/m);
  if (at < 0) throw new Error('README.md has no "## Set up" section');
  const block = /```sh\n[\s\S]*?```/.exec(readme.slice(at));
  if (!block) throw new Error('README.md\'s "Set up" section has no ```sh block');
  return shellLines(block[0]).map(([, text]) => text.replace(/\s+#.*$/, "").trim());
}

/**
 * `deno task generate`: writes the files derived from the option table (src/options/table.ts):
 * `docs/options.md` and `systemd/linkmirror.env`. tests/options/docs.test.ts fails while either
 * differs from what this would write.
 *
 * @module
 */

import { envFileText, optionsMarkdown } from "../src/options/docs.ts";

/** The generated files, by path relative to the repository. */
export const GENERATED: Readonly<Record<string, () => string>> = {
  "docs/options.md": optionsMarkdown,
  "systemd/linkmirror.env": envFileText,
};

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname;
  for (const [path, text] of Object.entries(GENERATED)) {
    Deno.writeTextFileSync(`${root}${path}`, text());
    console.error(`generate: wrote ${path}`);
  }
}

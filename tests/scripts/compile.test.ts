import { equal, throws } from "node:assert/strict";
import { BuildError, CHUNK_DIR, entryWithChunkDir } from "../../scripts/compile.ts";

Deno.test("entryWithChunkDir moves every chunk the entry names into the chunk directory", () => {
  const entry = 'import{a}from"./chunk-AB12.js";import"./chunk-CD34.js";' +
    'const s=()=>import("./sync-EF56.js");';
  equal(
    entryWithChunkDir(entry, ["chunk-AB12.js", "chunk-CD34.js", "sync-EF56.js"]),
    `import{a}from"./${CHUNK_DIR}/chunk-AB12.js";import"./${CHUNK_DIR}/chunk-CD34.js";` +
      `const s=()=>import("./${CHUNK_DIR}/sync-EF56.js");`,
  );
});

Deno.test("entryWithChunkDir refuses an entry that names a chunk another way", () => {
  // Quoted otherwise, the path would stay beside the entry, where the chunk no longer is.
  throws(() => entryWithChunkDir("import('./sync-EF56.js')", ["sync-EF56.js"]), BuildError);
});

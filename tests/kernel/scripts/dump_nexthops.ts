/**
 * Dumps the namespace's nexthop objects through the rtnl client and prints them as one JSON
 * array (the decoded {@linkcode NexthopObject}s, `other` attributes left out).
 *
 * Usage: `deno run -A dump_nexthops.ts`
 *
 * @module
 */

import { RtnlClient } from "../../../src/rtnl/client.ts";
import { assertInsideTestNetns } from "./guard.ts";

assertInsideTestNetns();
const client = RtnlClient.open();
try {
  console.log(JSON.stringify(client.nexthops().map(({ other: _other, ...nh }) => nh)));
} finally {
  client.close();
}

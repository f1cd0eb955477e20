// Stands in for a worker in the kill -9 test: makes two disk areas under the root given as
// its argument, prints its set as JSON, and waits to be killed.
import { setUpDiskAreas } from "../../src/sandbox/disk-areas.ts";

const root = process.argv[2];
if (root === undefined) throw new Error("usage: disk-area-holder.ts ROOT");
const setup = await setUpDiskAreas({ root, count: 2, sizeBytes: 16 * 1024 * 1024, env: {} });
process.stdout.write(`${JSON.stringify({ setDir: setup.areas?.setDir, note: setup.note })}\n`);
// Keeps the process (and so its lock on the set) alive until the test kills it.
setInterval(() => undefined, 60_000);

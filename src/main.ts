// Entry of every build. bin/modulate imports `main` from the dev bundle; the single
// executable has no shim, so there this module runs main(argv) itself.
import { isSea } from "node:sea";
import { main } from "./cli.ts";

export { main };

if (isSea()) {
  process.exitCode = await main(process.argv.slice(2));
}

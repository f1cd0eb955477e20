// The modulate version this build runs: `--version` says it, with the commit it was built from
// and what it speaks of the Resonate protocol; each worker announces the version.
import packageJson from "../../package.json" with { type: "json" };
import { GENERATIONS } from "../orchestration/wire/origins.ts";
import { PROTOCOL_VERSION } from "../orchestration/wire/wire-request.ts";

/** Set by release/bundle.ts from `git rev-parse`; absent when the sources run unbundled. */
declare const MODULATE_COMMIT: string | undefined;

export const MODULATE_VERSION: string = packageJson.version;

/** The commit this build was made from ("unknown" where it was built outside a git checkout). */
export const MODULATE_COMMIT_ID: string =
  typeof MODULATE_COMMIT === "string" && MODULATE_COMMIT !== "" ? MODULATE_COMMIT : "unknown";

/**
 * What `modulate --version` prints: the version alone on the first line (scripts read it), then
 * the commit, the protocol version of the requests it sends, and the generations of Resonate
 * server it can run on.
 */
export function versionText(): string {
  return [
    MODULATE_VERSION,
    `commit: ${MODULATE_COMMIT_ID}`,
    `protocol: ${PROTOCOL_VERSION}`,
    `server generations: ${GENERATIONS.join(", ")}`,
  ].join("\n");
}

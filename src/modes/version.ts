// The modulate version this build runs: `--version` says it, and each worker announces it.
import packageJson from "../../package.json" with { type: "json" };

export const MODULATE_VERSION: string = packageJson.version;

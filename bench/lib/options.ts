// The bench's command line: `npm run bench:server -- --rounds 3 --pending 0,10000`, etc.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { EngineKey } from "./measurement.ts";
import { HTTP_CLIENTS, type HttpClientKind } from "./protocol-client.ts";
import type { RunSettings } from "./report.ts";
import type { ClientPlacement } from "./run-load.ts";
import { SCENARIOS, type ScenarioName } from "./scenarios.ts";

export interface BenchOptions {
  settings: RunSettings;
  engines: EngineKey[];
  scenarios: ScenarioName[];
  httpClient: HttpClientKind;
  placement: ClientPlacement;
  outPath: string;
}

const HTTP_CLIENT_WORDS: Record<HttpClientKind, string> = {
  raw: "minimal HTTP/1.1 on node:net (bench/lib/raw-http-client.ts), one keep-alive socket per caller",
  "node-http": "node:http with Agent({ keepAlive: true }), one socket per caller",
  fetch: "global fetch (undici, as the SDK uses), keep-alive pool",
};

function count(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`--${name} "${text}" is not a valid count: use a whole number >= 0`);
  }
  return value;
}

function nonNegative(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) {
    throw new Error(`--${name} "${text}" is not valid: use a number >= 0, such as 0.3`);
  }
  return value;
}

function listOf<T extends string>(name: string, text: string, allowed: readonly T[]): T[] {
  const items = text.split(",").map((item) => item.trim());
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new Error(
        `--${name} names "${item}": use a comma-separated list of ${allowed.join(", ")}`,
      );
    }
  }
  return items as T[];
}

export function parseBenchOptions(argv: string[], engineKeys: EngineKey[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      "warmup-ms": { type: "string", default: "1000" },
      "measure-ms": { type: "string", default: "5000" },
      concurrency: { type: "string", default: "32" },
      /** Store sizes to measure at, in pending promises; the largest is the bars' "loaded". */
      pending: { type: "string", default: "0,100000" },
      client: { type: "string", default: "worker" },
      "http-client": { type: "string", default: "raw" },
      "max-other-cores": { type: "string", default: "0.3" },
      "max-attempts": { type: "string", default: "2" },
      rounds: { type: "string", default: "2" },
      engines: { type: "string", default: engineKeys.join(",") },
      scenarios: { type: "string", default: SCENARIOS.join(",") },
      out: {
        type: "string",
        default: fileURLToPath(new URL("../results/server.json", import.meta.url)),
      },
    },
  });
  const [httpClient = "raw"] = listOf("http-client", values["http-client"], HTTP_CLIENTS);
  const [placement = "worker"] = listOf<ClientPlacement>("client", values.client, [
    "worker",
    "inline",
  ]);
  return {
    settings: {
      warmupMs: count("warmup-ms", values["warmup-ms"]),
      measureMs: Math.max(1, count("measure-ms", values["measure-ms"])),
      concurrency: Math.max(1, count("concurrency", values.concurrency)),
      pendingLevels: values.pending.split(",").map((level) => count("pending", level)),
      loadGenerator:
        placement === "worker"
          ? "worker thread of the server's process (server on the main thread)"
          : "main thread, beside the server",
      httpClient: HTTP_CLIENT_WORDS[httpClient],
      maxOtherCores: nonNegative("max-other-cores", values["max-other-cores"]),
      maxAttempts: Math.max(1, count("max-attempts", values["max-attempts"])),
      rounds: Math.max(1, count("rounds", values.rounds)),
    },
    engines: listOf("engines", values.engines, engineKeys),
    scenarios: listOf("scenarios", values.scenarios, SCENARIOS),
    httpClient,
    placement,
    outPath: values.out,
  };
}

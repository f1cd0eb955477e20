// The entry of the server's engine thread (engine-thread-handle.ts starts it). Loaded as a
// file when modulate runs from source, and evaluated from text inlined by the bundle
// (release/bundle.ts) when it runs as dist/ or the single executable.
import { parentPort, workerData } from "node:worker_threads";
import { hostEngine } from "./engine-host.ts";
import type { EngineThreadConfig } from "./engine-messages.ts";

if (parentPort) hostEngine(parentPort, workerData as EngineThreadConfig);

// A server under test: where to send requests, how to fill it, how to stop it.
import type { PreloadReport } from "./preload.ts";

export interface BenchServer {
  /** Base URL of the HTTP layer, e.g. http://127.0.0.1:40123. */
  readonly url: string;
  /** Puts `count` pending promises (with timers and tasks) in place before a measurement. */
  preload(count: number): PreloadReport | Promise<PreloadReport>;
  close(): Promise<void>;
}

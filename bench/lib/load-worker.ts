// Runs the load generator on its own thread, so that on a 2-core machine the client has a
// core and the server's event loop has the other. Window hooks go to the parent as messages,
// so it can measure how busy the server's thread was over the same window.
import { parentPort, workerData } from "node:worker_threads";
import { generateLoad, type LoadSpec } from "./load.ts";

const port = parentPort;
if (!port) throw new Error("load-worker.ts runs as a worker thread: start it with runLoad()");
const result = await generateLoad(workerData as LoadSpec, {
  onStart: () => port.postMessage({ type: "window-start" }),
  onEnd: () => port.postMessage({ type: "window-end" }),
});
port.postMessage({ type: "result", result }, [result.latenciesMs.buffer]);

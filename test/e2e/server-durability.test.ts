// kill -9 of the server under load, then a restart on the same --data: every acknowledged
// promise and task is there, pending tasks go out again, and timers still fire.
import { afterEach, describe, expect, it } from "vitest";
import { openPoll, send } from "../helpers/protocol-client.ts";
import { startServerProcess, stopAll, tempDir } from "../helpers/processes.ts";

afterEach(stopAll);

const FAR = Date.now() + 3_600_000;

describe("modulate server durability", () => {
  // Generous deadlines: this test loads both cores, and CI may run other files beside it.
  it("keeps every acknowledged promise and task across kill -9", { timeout: 120_000 }, async () => {
    const data = tempDir();
    const first = await startServerProcess(["--data", data]);

    // Load from 16 concurrent clients until the server dies under it.
    const acknowledged: string[] = [];
    const withTask = new Set<string>();
    let stop = false;
    let sequence = 0;
    const client = async (): Promise<void> => {
      while (!stop) {
        const id = `load-${sequence++}`;
        const targeted = withTask.size < 300 && sequence % 2 === 0;
        try {
          const answer = await send(first.url, "promise.create", {
            id,
            timeoutAt: FAR,
            param: { data: id },
            tags: targeted ? { "resonate:target": "poll://any@workers" } : {},
          });
          if (answer.status === 200) {
            acknowledged.push(id);
            if (targeted) withTask.add(id);
          }
        } catch {
          return; // the server is gone
        }
      }
    };
    const clients = Array.from({ length: 16 }, client);
    while (acknowledged.length < 1_500) await new Promise((r) => setTimeout(r, 20));
    // A timer set just before the crash, due after it, watched by a listener. Set before the
    // load, it could fire (and its message die with the server) when the load took longer
    // than its deadline on a busy machine.
    const timerId = "timer-before-crash";
    const created = await send(first.url, "promise.create", {
      id: timerId,
      timeoutAt: Date.now() + 5_000,
      param: {},
      tags: { "resonate:target": "poll://any@nobody" },
    });
    expect(created.status).toBe(200);
    expect(
      (
        await send(first.url, "promise.register_listener", {
          awaited: timerId,
          address: "poll://uni@watch/w1",
        })
      ).status,
    ).toBe(200);

    first.kill("SIGKILL");
    await first.exited();
    stop = true;
    await Promise.all(clients);

    const second = await startServerProcess(["--data", data]);
    const missing: string[] = [];
    for (const id of acknowledged) {
      const answer = await send(second.url, "promise.get", { id });
      if (answer.status !== 200) missing.push(id);
    }
    expect(missing).toEqual([]);

    // Pending tasks are offered again to the group's first member.
    const worker = await openPoll(second.url, "workers", "w9");
    await worker.until((messages) => {
      const offered = new Set(messages.map((m) => m.data.task?.id));
      return [...withTask].every((id) => offered.has(id));
    }, 45_000);
    worker.close();

    // The timer fires on the restarted server and reaches the listener.
    const watcher = await openPoll(second.url, "watch", "w1");
    await watcher.until(
      (messages) =>
        messages.some(
          (m) =>
            m.kind === "unblock" &&
            m.data.promise?.id === timerId &&
            m.data.promise.state === "rejected_timedout",
        ),
      45_000,
    );
    watcher.close();
  });
});

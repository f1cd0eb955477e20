// The client of bench/event-loop.ts, in a process of its own: creates and reads back ROUNDS
// values of 8 MB, one request at a time, and sends the parent each request's time.
import { Agent, request } from "node:http";

const [url = "", roundsText = "5"] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true });

function post(body: Buffer): Promise<number> {
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/`,
      { method: "POST", agent, headers: { "content-length": body.length } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(performance.now() - startedAt));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const times: number[] = [];
for (let i = 0; i < Number(roundsText); i++) {
  const id = `bench-big-${i}`;
  const data = Buffer.alloc(6 * 1024 * 1024, i).toString("base64");
  const head = { corrId: id, version: "2026-04-01" };
  const create = Buffer.from(
    JSON.stringify({
      kind: "promise.create",
      head,
      data: { id, timeoutAt: Date.now() + 3_600_000, param: { headers: {}, data }, tags: {} },
    }),
  );
  const get = Buffer.from(JSON.stringify({ kind: "promise.get", head, data: { id } }));
  times.push(await post(create), await post(get));
}
process.send?.(times);
agent.destroy();

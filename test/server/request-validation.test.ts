// Request fields the server must refuse rather than misread: kinds named like properties of
// every object, cursors it did not issue, and text that is not well-formed UTF-8 or Unicode
// (which SQLite would store as U+FFFD, making two ids one promise).
import { afterEach, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { send } from "../helpers/protocol-client.ts";

const servers: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(): Promise<RunningServer> {
  const s = await startServer({ host: "127.0.0.1", port: 0 });
  servers.push(s);
  return s;
}

interface Answer {
  status: number;
  headStatus: number;
  data: unknown;
}

async function postBytes(url: string, body: string | Uint8Array): Promise<Answer> {
  const res = await fetch(`${url}/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const json = (await res.json()) as { head: { status: number }; data: unknown };
  return { status: res.status, headStatus: json.head.status, data: json.data };
}

const FAR = Date.now() + 3_600_000;
const head = { corrId: "1", version: "2026-04-01" };

function createBody(id: string, tags: Record<string, string> = {}): string {
  return JSON.stringify({
    kind: "promise.create",
    head,
    data: { id, timeoutAt: FAR, param: {}, tags },
  });
}

describe("kinds named like object properties", () => {
  it.each(["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"])(
    "answers kind %s with 400 naming the kinds there are",
    async (kind) => {
      const s = await server();
      const answer = await postBytes(s.url, JSON.stringify({ kind, head, data: {} }));
      expect(answer.status).toBe(400);
      expect(answer.headStatus).toBe(400);
      expect(String(answer.data)).toMatch(/unknown kind .*expected one of promise\.get/);
    },
  );
});

describe("search cursors", () => {
  it.each([
    ["a word", "zzz"],
    ["an id", "job-05"],
    ["a cursor with a wrong prefix", "c9.am9iLTA1"],
    ["a cursor that is not base64url", "c1.%%%"],
    ["a cursor that is not UTF-8", "c1._w"],
  ])("refuses %s with 400 naming the field", async (_name, cursor) => {
    const s = await server();
    for (const kind of ["promise.search", "task.search", "schedule.search"]) {
      const answer = await send(s.url, kind, { limit: 10, cursor });
      expect(answer.httpStatus).toBe(400);
      expect(String(answer.data)).toMatch(/data\.cursor .* is not a cursor this server issued/);
    }
  });

  it("continues from the cursor the server issued, for promises and tasks", async () => {
    const s = await server();
    for (let i = 0; i < 5; i++) {
      await send(s.url, "promise.create", {
        id: `p-${i}`,
        timeoutAt: FAR,
        param: {},
        tags: { "resonate:target": "poll://any@g" },
      });
    }
    for (const [kind, key] of [
      ["promise.search", "promises"],
      ["task.search", "tasks"],
    ] as const) {
      const first = (await send(s.url, kind, { limit: 3 })).data as Record<string, unknown>;
      const cursor = first["cursor"];
      expect(typeof cursor).toBe("string");
      const second = await send(s.url, kind, { limit: 3, cursor });
      expect(second.status).toBe(200);
      const ids = (second.data as Record<string, { id: string }[]>)[key]?.map((x) => x.id);
      expect(ids).toEqual(["p-3", "p-4"]);
    }
  });
});

describe("text that is not well-formed", () => {
  it("refuses a body with bytes that are not UTF-8, and stores nothing", async () => {
    const s = await server();
    // Two ids whose invalid bytes would both decode to U+FFFD: one promise, if stored.
    for (const bad of [0xff, 0xfe]) {
      const body = Buffer.from(createBody("id-?"), "utf8");
      body[body.indexOf("?")] = bad;
      const answer = await postBytes(s.url, body);
      expect(answer.status).toBe(400);
      expect(String(answer.data)).toMatch(/not valid UTF-8/);
    }
    expect((await send(s.url, "promise.get", { id: "id-\ufffd" })).status).toBe(404);
  });

  it.each([
    ["an id", createBody("id-\ud800"), /data\.id must be well-formed Unicode/],
    ["an id ending in a lone low surrogate", createBody("id-\udc00"), /data\.id must be/],
    ["a tag value", createBody("ok", { owner: "\udfff" }), /data\.tags\.owner must be/],
    ["a tag key", createBody("ok", { ["k\ud83d"]: "v" }), /data\.tags key .* must be/],
  ])("refuses a lone surrogate in %s with 400", async (_name, body, reason) => {
    const s = await server();
    // JSON.stringify writes a lone surrogate as a \u escape, so the body itself is UTF-8.
    expect(body).toMatch(/\\ud[89a-f]/);
    const answer = await postBytes(s.url, body);
    expect(answer.status).toBe(400);
    expect(String(answer.data)).toMatch(reason);
    expect((await send(s.url, "promise.search", {})).data).toEqual({ promises: [] });
  });

  it("keeps ids of any well-formed text apart, astral characters included", async () => {
    const s = await server();
    for (const id of ["id-\u{1f600}", "id-\u{1f601}", "id-é"]) {
      expect((await postBytes(s.url, createBody(id))).status).toBe(200);
    }
    const found = (await send(s.url, "promise.search", {})).data as { promises: { id: string }[] };
    expect(found.promises.map((p) => p.id).sort()).toEqual(
      ["id-é", "id-\u{1f600}", "id-\u{1f601}"].sort(),
    );
  });
});

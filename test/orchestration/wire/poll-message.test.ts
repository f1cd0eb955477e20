// The poll stream's own message check must agree with the SDK's (which it stands in for, so
// that a client need not load the SDK): the same messages pass, the same ones are dropped.
import { isMessage } from "@resonatehq/sdk";
import { describe, expect, it } from "vitest";
import { isPollMessage } from "../../../src/orchestration/wire/poll-message.ts";

const promise = {
  id: "job-1",
  state: "resolved",
  param: { headers: {}, data: "e30=" },
  value: { data: "e30=" },
  tags: { "resonate:scope": "global" },
  timeoutAt: 10,
  createdAt: 1,
  settledAt: 2,
};
const unblock = { kind: "unblock", head: {}, data: { promise } };
const execute = {
  kind: "execute",
  head: { serverUrl: "http://s" },
  data: { task: { id: "t", version: 3 } },
};

const samples: [string, unknown][] = [
  ["an unblock message", unblock],
  ["an execute message", execute],
  [
    "an unblock of a pending promise without settledAt",
    {
      ...unblock,
      data: { promise: { ...promise, state: "pending", settledAt: undefined } },
    },
  ],
  ["a value without headers or data", { ...unblock, data: { promise: { ...promise, value: {} } } }],
  ["another kind", { ...execute, kind: "resume" }],
  ["no head", { kind: "execute", data: execute.data }],
  ["a head naming its server with a number", { ...execute, head: { serverUrl: 1 } }],
  ["a task version as text", { ...execute, data: { task: { id: "t", version: "3" } } }],
  ["a task without id", { ...execute, data: { task: { version: 3 } } }],
  ["no data", { kind: "unblock", head: {} }],
  ["an unknown promise state", { ...unblock, data: { promise: { ...promise, state: "done" } } }],
  ["data that is not text", { ...unblock, data: { promise: { ...promise, param: { data: 1 } } } }],
  [
    "headers that are not an object",
    {
      ...unblock,
      data: { promise: { ...promise, value: { headers: "h" } } },
    },
  ],
  ["tags missing", { ...unblock, data: { promise: { ...promise, tags: undefined } } }],
  ["settledAt as text", { ...unblock, data: { promise: { ...promise, settledAt: "2" } } }],
  ["null", null],
  ["text", "data"],
];

describe("poll stream messages", () => {
  it.each(samples)("%s: judged as the SDK judges it", (_name, sample) => {
    expect(isPollMessage(sample)).toBe(isMessage(sample));
  });

  it("passes real messages", () => {
    expect(isPollMessage(unblock)).toBe(true);
    expect(isPollMessage(execute)).toBe(true);
  });
});

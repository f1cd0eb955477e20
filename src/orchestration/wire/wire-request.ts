// Building protocol envelopes and reading their status; the SDK's types check the data.
import type { Request, Response } from "@resonatehq/sdk";
import { randomUUID } from "../../common/random.ts";

export const PROTOCOL_VERSION = "2026-04-01";

export function request<K extends Request["kind"]>(
  kind: K,
  data: Extract<Request, { kind: K }>["data"],
): Extract<Request, { kind: K }> {
  return { kind, head: { corrId: randomUUID(), version: PROTOCOL_VERSION }, data } as Extract<
    Request,
    { kind: K }
  >;
}

export function isOk<R extends Response>(res: R): res is Extract<R, { head: { status: 200 } }> {
  return res.head.status === 200 && typeof res.data !== "string";
}

// Which generation of the Resonate server answers (origins.ts), learnt without writing
// anything: two callback registrations between promises that do not exist, whose ids share an
// origin under one generation's reading and not under the other's. Where the origins differ,
// c8d7c7b and the ':' generation refuse the request (400, origin_mismatch: types.rs 367-370);
// where they are the same, or on a server with no lineage rules, it gets as far as finding the
// promise missing (404).
//
//   probe        dot (c8d7c7b)   colon   none (v0.9.8, modulate's own)
//   <p>x.1/x.2   404             400     404
//   <p>x:1/x:2   400             404     404
import type { Generation } from "./origins.ts";
import { ServerUnavailable, type Transport } from "./transport.ts";
import { request } from "./wire-request.ts";

/** The server answered the probes in a way no known generation does. */
export class UnknownGeneration extends Error {
  override readonly name = "UnknownGeneration";
}

/** The status a probe got: the protocol's answer, or a refusal (400, 401, 403, ...). */
async function probe(transport: Transport, awaiter: string, awaited: string): Promise<number> {
  try {
    const res = await transport.send(request("promise.register_callback", { awaiter, awaited }));
    return res.head.status;
  } catch (error) {
    // A 400 is the answer looked for; a refusal of the credentials, or no answer, goes up.
    if (error instanceof ServerUnavailable && error.status === 400) return 400;
    throw error;
  }
}

/**
 * The generation of the server behind `transport`. `prefix` starts the probes' ids, so that a
 * token scoped to a prefix may send them. Throws UnknownGeneration for answers that fit none.
 */
export async function probeGeneration(transport: Transport, prefix: string): Promise<Generation> {
  const root = `${prefix}modulate-probe`;
  const [dotted, coloned] = await Promise.all([
    probe(transport, `${root}.1`, `${root}.2`),
    probe(transport, `${root}:1`, `${root}:2`),
  ]);
  if (dotted === 404 && coloned === 404) return "none";
  if (dotted === 404 && coloned === 400) return "dot";
  if (dotted === 400 && coloned === 404) return "colon";
  throw new UnknownGeneration(
    `callbacks between missing promises ${root}.1/.2 and ${root}:1/:2 were answered ${dotted} and ${coloned}, where a known server answers 404 to one at least`,
  );
}

// Ids in the job's lineage: what a job creates is named so that every generation of the
// Resonate server takes it, checked against the protocol profiles of those generations
// (test/helpers/protocol-profiles), and the server's generation is learnt without writing.
import { afterEach, describe, expect, it } from "vitest";
import { childId, childLineageTags } from "../../../src/orchestration/jobs/lineage.ts";
import { executeId, jobIdProblem, jobOfExecuteId } from "../../../src/orchestration/jobs/names.ts";
import { probeGeneration } from "../../../src/orchestration/wire/generation-probe.ts";
import { batchesByOrigin, type Generation } from "../../../src/orchestration/wire/origins.ts";
import { createTransport } from "../../../src/orchestration/wire/transport.ts";
import { startServer, type RunningServer } from "../../../src/server/server.ts";
import { checkRequest } from "../../helpers/protocol-profiles/check.ts";
import {
  checkingProxy,
  type CheckingProxy,
} from "../../helpers/protocol-profiles/checking-proxy.ts";
import { PROFILES, type ProfileName } from "../../helpers/protocol-profiles/profiles.ts";
import { PROTOCOL_VERSION } from "../../helpers/protocol-profiles/envelope.ts";

const GENERATION_OF: Record<ProfileName, Generation> = {
  c8d7c7b: "dot",
  colon: "colon",
  "v0.9.8": "none",
};

/** A create as the router and worker send it: a job's child, with its lineage tags. */
function childCreate(generation: Generation, jobId: string, part: string) {
  const id = childId(jobId, part);
  return {
    kind: "promise.create",
    head: { corrId: "c", version: PROTOCOL_VERSION },
    data: {
      id,
      timeoutAt: Date.now() + 60_000,
      param: { headers: {}, data: "" },
      tags: { ...childLineageTags(generation, jobId, id), "resonate:target": "poll://any@g" },
    },
  };
}

describe("ids in the job's lineage", () => {
  for (const name of Object.keys(PROFILES) as ProfileName[]) {
    it(`names what a job creates so that ${name} takes it`, () => {
      const profile = PROFILES[name];
      for (const part of ["execute", "queue", "queue-timeout", "attempt-3", "output-1-7"]) {
        const create = childCreate(GENERATION_OF[name], "job-mx1-ab12", part);
        expect(checkRequest(profile, create), `${name} ${create.data.id}`).toBeUndefined();
      }
    });
  }

  it("would be refused under the other generation's tags: the lineage declared is the generation's", () => {
    expect(checkRequest(PROFILES.c8d7c7b, childCreate("colon", "job-1", "execute"))).toMatchObject({
      rule: "dot_in_origin",
    });
    expect(checkRequest(PROFILES.colon, childCreate("dot", "job-1", "execute"))).toMatchObject({
      rule: "origin_prefix",
    });
  });

  it("reads the job back from its execute promise's id, today's and an older router's", () => {
    expect(jobOfExecuteId(executeId("job-1"))).toBe("job-1");
    expect(jobOfExecuteId("modulate-execute.job-2")).toBe("job-2");
    expect(jobOfExecuteId("job-1.queue")).toBeUndefined();
    expect(jobOfExecuteId(".execute")).toBeUndefined();
  });

  it("keeps both separators out of job ids, saying why", () => {
    expect(jobIdProblem("exp-1_a")).toBeUndefined();
    expect(jobIdProblem("exp.1")).toMatch(/'\.' separates the ids of what a job creates/);
    expect(jobIdProblem("exp:1")).toMatch(/':' separates/);
  });

  it("beats for different jobs' tasks in batches of one origin each, under every reading", () => {
    const tasks = [
      { id: "job-a.execute", version: 1 },
      { id: "job-b.execute", version: 1 },
      { id: "job-a.execute", version: 2 },
      { id: "job-c:execute", version: 1 },
      { id: "job-c:queue", version: 1 },
      { id: "modulate-presence.g.p.1", version: 1 },
    ];
    const batches = batchesByOrigin(tasks).map((b) => b.map((t) => `${t.id}@${t.version}`));
    // One generation reads 'job-a.execute' as job-a's, the other as a root of its own: tasks
    // share a batch only where both readings agree.
    expect(batches).toEqual([
      ["job-a.execute@1", "job-a.execute@2"],
      ["job-b.execute@1"],
      ["job-c:execute@1"],
      ["job-c:queue@1"],
      ["modulate-presence.g.p.1@1"],
    ]);
    for (const batch of batchesByOrigin(tasks)) {
      const beat = {
        kind: "task.heartbeat",
        head: { corrId: "c", version: PROTOCOL_VERSION },
        data: { pid: "p", tasks: batch },
      };
      expect(checkRequest(PROFILES.c8d7c7b, beat)).toBeUndefined();
    }
  });
});

describe("learning the server's generation", () => {
  const servers: RunningServer[] = [];
  const proxies: CheckingProxy[] = [];
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function generationAt(url: string, prefix = ""): Promise<Generation> {
    const transport = createTransport({ url }, 5_000);
    try {
      return await probeGeneration(transport, prefix);
    } finally {
      transport.close();
    }
  }

  it("finds modulate's own server without lineage rules", async () => {
    const server = await startServer({ host: "127.0.0.1", port: 0 });
    servers.push(server);
    expect(await generationAt(server.url)).toBe("none");
  });

  for (const name of Object.keys(PROFILES) as ProfileName[]) {
    it(`tells ${name} by how it refuses, without writing anything`, async () => {
      const server = await startServer({ host: "127.0.0.1", port: 0 });
      servers.push(server);
      const proxy = await checkingProxy(server.url, PROFILES[name]);
      proxies.push(proxy);
      expect(await generationAt(proxy.url, "t1-")).toBe(GENERATION_OF[name]);
      const kinds = [...proxy.seen.keys()];
      expect(kinds).toEqual(["promise.register_callback"]);
    });
  }
});

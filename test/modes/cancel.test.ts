// `cancel` called directly (runCancel) against a server in this process: the y/N on a
// terminal, the refusal off one, the arguments' one-line errors, and a token's prefix.
import { afterEach, describe, expect, it } from "vitest";
import { ExitCode, UserError } from "../../src/common/errors.ts";
import {
  cancelCommand,
  runCancel,
  type CancelArgs,
  type CancelDeps,
} from "../../src/modes/cancel.ts";
import { openModulateClient } from "../../src/modes/deps.ts";
import { startEmbeddedServer } from "../../src/modes/embedded-server.ts";
import { ModulateClient } from "../../src/orchestration/client.ts";
import { newJobId } from "../../src/orchestration/jobs/names.ts";
import type { JobSpec } from "../../src/orchestration/jobs/job.ts";
import { createAuthenticator } from "../../src/server/auth.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { ed25519KeyPair, signJwt } from "../server/jwt-helper.ts";
import { captureContext, type CapturedContext } from "./capture-context.ts";
import { argsOf } from "./mode-args.ts";

const stoppers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
});

async function embeddedServer(): Promise<RunningServer> {
  const server = await startEmbeddedServer({ host: "127.0.0.1", port: 0 });
  stoppers.push(() => server.close());
  return server;
}

function clientOf(url: string): ModulateClient {
  const client = new ModulateClient({ url });
  stoppers.push(() => client.close());
  return client;
}

async function cancelArgs(words: string[], ids: string[] = []): Promise<CancelArgs> {
  return { ...(await argsOf(cancelCommand, words)), ids };
}

/** A job of `group` that no router takes here: it waits for one. */
function waitingJob(group: string): JobSpec {
  const now = Date.now();
  return {
    id: newJobId(now),
    group,
    script: { name: "job.sh", content: "echo hi\n" },
    args: [],
    timeoutMs: 60_000,
    mode: "detach",
    submittedAt: now,
  };
}

/** cancel's real client; its terminal answers `answer`, and the questions are kept. */
function depsAnswering(answer: string, questions: string[]): CancelDeps {
  return {
    openClient: openModulateClient,
    ask: (question) => {
      questions.push(question);
      return Promise.resolve(answer);
    },
    canceledBy: "ada@lab",
  };
}

function onTerminal(): CapturedContext {
  return { ...captureContext(), isInteractive: true };
}

describe("runCancel", () => {
  it("asks on a terminal before a filter cancels: no cancels nothing, yes cancels every job it chose", async () => {
    const server = await embeddedServer();
    const client = clientOf(server.url);
    const chosen = [waitingJob("bulk"), waitingJob("bulk")];
    const other = waitingJob("other");
    for (const spec of [...chosen, other]) await client.submit(spec, 60_000);
    const args = await cancelArgs(["--url", server.url, "--group", "bulk", "--state", "pending"]);

    const questions: string[] = [];
    const declined = onTerminal();
    expect(await runCancel(args, declined, depsAnswering("n", questions))).toBe(ExitCode.ok);
    expect(questions).toHaveLength(1);
    expect(questions[0]).toMatch(/^cancel 2 jobs \(group bulk, state pending\): /);
    for (const spec of chosen) expect(questions[0]).toContain(spec.id);
    expect(declined.err()).toBe("modulate: nothing canceled\n");
    for (const spec of chosen) expect((await client.getJob(spec.id)).finished).toBe(false);

    const accepted = onTerminal();
    expect(await runCancel(args, accepted, depsAnswering("y", questions))).toBe(ExitCode.ok);
    expect(accepted.out().trim().split("\n").sort()).toEqual(
      chosen.map((spec) => `canceled ${spec.id} (was waiting for a router)`).sort(),
    );
    for (const spec of chosen) {
      const view = await client.getJob(spec.id);
      expect(view.finished).toBe(true);
      expect(view.result).toMatchObject({ state: "canceled", canceledBy: "ada@lab" });
    }
    expect((await client.getJob(other.id)).finished).toBe(false);
  });

  it("refuses a filter off a terminal without --yes, before it asks the server anything", async () => {
    const args = await cancelArgs(["--url", "http://127.0.0.1:9", "--group", "bulk"]);
    const deps: CancelDeps = {
      openClient: () => Promise.reject(new Error("the server was asked")),
      ask: () => Promise.reject(new Error("asked off a terminal")),
    };
    const run = runCancel(args, captureContext(), deps);
    await expect(run).rejects.toBeInstanceOf(UserError);
    await expect(run).rejects.toMatchObject({ exitCode: ExitCode.usage });
    await expect(run).rejects.toThrow(/add --yes/);
  });

  it.each([
    ["ids and a filter at once", ["--group", "g"], ["job-1"], /not both/],
    ["neither ids nor a filter", [], [], /name the jobs to cancel/],
    ["a state that has ended", ["--state", "succeeded", "--yes"], [], /cannot be canceled/],
    ["an id no job can have", [], ["job 1!"], /not a valid job id/],
    ["a group name no group can have", ["--group", "GPU!", "--yes"], [], /--group "GPU!"/],
  ])("says what is wrong in one line, exit 2: %s", async (_what, words, ids, message) => {
    const args = await cancelArgs(["--url", "http://127.0.0.1:9", ...words], ids);
    const deps: CancelDeps = {
      openClient: () => Promise.reject(new Error("the server was asked")),
      ask: () => Promise.reject(new Error("asked")),
    };
    const run = runCancel(args, captureContext(), deps);
    await expect(run).rejects.toMatchObject({ exitCode: ExitCode.usage });
    const error = (await run.catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain("\n");
  });

  it("with a token scoped to a prefix, cancels nothing outside it: the server's refusal is one line, exit 5", async () => {
    const keys = ed25519KeyPair();
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const auth = createAuthenticator({ kind: "jwt", publicKeyPem: keys.publicKeyPem }, Date.now);
    const server = await startServer({ host: "127.0.0.1", port: 0, auth });
    stoppers.push(() => server.close());
    const token = signJwt({ alg: "EdDSA" }, { exp, prefix: "team-a-" }, keys.privateKey);
    const deps = depsAnswering("y", []);

    const outside = await cancelArgs(["--url", server.url, "--token", token], ["job-other"]);
    const refused = runCancel(outside, captureContext(), deps);
    await expect(refused).rejects.toMatchObject({ exitCode: ExitCode.refused });
    const error = (await refused.catch((e: unknown) => e)) as Error;
    expect(error.message).toContain("outside this token's prefix");
    expect(error.message).not.toContain("\n");

    // Inside the prefix the server answers, and an id it does not hold exits 4.
    const inside = await cancelArgs(["--url", server.url, "--token", token], ["team-a-job"]);
    const ctx = captureContext();
    expect(await runCancel(inside, ctx, deps)).toBe(ExitCode.notFound);
    expect(ctx.err()).toMatch(/^modulate: no such job: team-a-job/);
  });
});

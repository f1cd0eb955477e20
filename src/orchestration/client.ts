// The client side of modulate, shared by the CLI and the dashboard: one connection to any
// Resonate server, and what is done over it, each in a file of its own under client/: submit a
// job (submit.ts), wait for it (wait.ts), read where it stands (view.ts), list jobs (list.ts),
// cancel one (cancel.ts).
import { randomBytes } from "../common/random.ts";
import { hostname } from "node:os";
import type { JobResult, JobSpec } from "./jobs/job.ts";
import { ENTRY_GROUP, processPid } from "./jobs/names.ts";
import { groupHasLiveWorker, listLiveWorkers, type WorkerView } from "./presence.ts";
import { submitJob, type Submitted } from "./client/submit.ts";
import { cancelJob, canceler, type CancelOutcome } from "./client/cancel.ts";
import { listJobs, type JobList, type ListFilter } from "./client/list.ts";
import { AttemptMemo } from "./client/attempt-memo.ts";
import { GradualLister, type GradualOptions } from "./client/list-gradual.ts";
import { viewJob, type JobView } from "./client/view.ts";
import { listSweeps, submitSweep, viewSweep, type SweepView } from "./client/sweep.ts";
import type { SweepRecord } from "./jobs/sweep.ts";
import { waitForJob } from "./client/wait.ts";
import {
  followOutput,
  type FollowEvents,
  type FollowOptions,
  type FollowReport,
} from "./client/follow-output.ts";
import { learnServerGeneration } from "./server-generation.ts";
import { openListener, type Listener } from "./wire/listener.ts";
import type { Generation } from "./wire/origins.ts";
import { tokenPrefix } from "./wire/token-claims.ts";
import { ServerLimits } from "./wire/server-limits.ts";
import { createTransport, ServerUnavailable, type Transport } from "./wire/transport.ts";
import { senderOver, unreachable, type Connection, type Send } from "./wire/wire.ts";

export class ModulateClient {
  readonly #connection: Connection;
  readonly #transport: Transport;
  readonly #send: Send;
  readonly #limits = new ServerLimits();
  #listener: Promise<Listener> | undefined;
  #generation: Promise<Generation> | undefined;
  #closed = false;
  /** Attempt records read by the last listings, for jobs that have not moved since. */
  readonly #attempts = new AttemptMemo();
  /** Job specs decoded by the last listings in slices, for the dashboard. */
  readonly #gradual = new GradualLister();

  constructor(connection: Connection) {
    this.#connection = connection;
    this.#transport = createTransport(connection, undefined, this.#limits);
    this.#send = senderOver(this.#transport, connection);
  }

  /**
   * Durable once this resolves: the router will run it even if this process dies now. The
   * job's root promise is written exactly as the SDK writes a top-level call (`beginRpc`),
   * so routers running the SDK execute it; modulate's own client needs no SDK to do it.
   */
  async submit(spec: JobSpec, queueTimeoutMs: number): Promise<Submitted> {
    // A sweep's job (a retry) names its origin as the server reads it; a plain job's id is its
    // own origin under every generation.
    const generation = spec.sweep ? await this.#generationOrNone() : "none";
    return submitJob(
      this.#send,
      spec,
      queueTimeoutMs,
      () => this.#serverMaxBodyBytes(),
      tokenPrefix(this.#connection.token),
      generation,
    );
  }

  /**
   * Submits a sweep: its record, then every job, many at once (client/sweep.ts). The jobs'
   * ids follow the server's lineage, which is asked first.
   */
  async submitSweep(
    record: SweepRecord,
    specs: readonly JobSpec[],
    queueTimeoutMs: number,
  ): Promise<Submitted[]> {
    const generation = await this.#generationOrNone();
    return submitSweep(this.#send, record, specs, generation, (spec) =>
      submitJob(
        this.#send,
        spec,
        queueTimeoutMs,
        () => this.#serverMaxBodyBytes(),
        tokenPrefix(this.#connection.token),
        generation,
      ),
    );
  }

  /**
   * The server's generation where it can be learnt; a token scoped to a prefix may not make the
   * probe's writes, and then the ids of a server without lineage rules are used.
   */
  #generationOrNone(): Promise<Generation> {
    return this.#learnGeneration().catch((): Generation => "none");
  }

  /** Where sweep `id` stands; undefined where `id` names no sweep. */
  getSweep(id: string): Promise<SweepView | undefined> {
    return viewSweep(this.#send, id);
  }

  /** Sweeps with their progress, newest first (outstanding ones only unless `all`). */
  listSweeps(all: boolean): Promise<SweepView[]> {
    return listSweeps(this.#send, all);
  }

  /** The server's request limit, from its answers; asked with GET /health if none came yet. */
  async #serverMaxBodyBytes(): Promise<number> {
    // Unreachable now: the submission itself then says so, in the usual words.
    if (!this.#limits.known) await this.#transport.health().catch(() => undefined);
    return this.#limits.maxBodyBytes();
  }

  /**
   * Opens what a wait needs, the listener stream, beside a submission: a waiting `submit` then
   * has it by the time its job is durable instead of opening it afterwards. A failure is left
   * for the wait to meet (it is opened again then). A wait needs not the server's generation:
   * what it reads is named the same under every one (jobs/lineage.ts's childId).
   */
  prepareToWait(): void {
    // Called late, once the command has closed the client (its submission failed): nothing to
    // wait for, and a stream opened now would be retried with nobody to close it.
    if (this.#closed) return;
    this.#listen().catch(() => undefined);
  }

  /** Waits for the job's final record; `stop` ends the wait at once (it then rejects). */
  waitForJob(id: string, mode?: JobSpec["mode"], stop?: AbortSignal): Promise<JobResult> {
    return waitForJob(
      { listen: () => this.#listen(), view: (jobId) => this.getJob(jobId) },
      id,
      mode,
      stop,
    );
  }

  /**
   * Reads the job's live output as its workers publish it (client/follow-output.ts); its
   * chunks and attempts are named the same under every server generation.
   */
  followOutput(id: string, options: FollowOptions, events: FollowEvents): Promise<FollowReport> {
    return followOutput(this.#send, id, options, events);
  }

  getJob(id: string): Promise<JobView> {
    return viewJob(this.#send, id);
  }

  /**
   * Cancels job `id` as of `now`, on behalf of `canceledBy` (`user@host`, this process's by
   * default); a job that has ended is left as it is (client/cancel.ts).
   */
  async cancel(id: string, now: number, canceledBy: string = canceler()): Promise<CancelOutcome> {
    await this.#learnGeneration();
    return cancelJob(this.#send, id, canceledBy, now);
  }

  /**
   * Outstanding jobs (and with `all` finished ones), newest first: what `modulate ls` lists.
   * Listed again (the dashboard's refresh), the attempts of jobs that have not moved since the
   * last listing are not read again (client/attempt-memo.ts).
   */
  list(filter: ListFilter): Promise<JobList> {
    return listJobs(this.#attempts.sendFor(this.#send), filter, Date.now());
  }

  /**
   * What `list` lists, read in slices with turns of the event loop between them, so that the
   * dashboard's keys and frames go on during a refresh; `onRows` gets the rows before their
   * attempts are read, `onWorkers` the live workers as `workers` lists them, read once for both
   * (client/list-gradual.ts).
   */
  listGradually(filter: ListFilter, options: GradualOptions = {}): Promise<JobList> {
    const { onWorkers } = options;
    return this.#gradual.list(this.#attempts.sendFor(this.#send), filter, Date.now(), {
      ...options,
      // As `workers` says them: routers left out.
      ...(onWorkers
        ? { onWorkers: (all) => onWorkers(all.filter((w) => w.group !== ENTRY_GROUP)) }
        : {}),
    });
  }

  /**
   * Every live worker, each with what it announced and the jobs it runs now. Routers hold
   * presence leases too, in the entry group; they are not workers and are left out.
   */
  async workers(): Promise<WorkerView[]> {
    return (await listLiveWorkers(this.#send)).filter((w) => w.group !== ENTRY_GROUP);
  }

  /** True when some worker of `group` is alive now. */
  groupHasLiveWorker(group: string): Promise<boolean> {
    return groupHasLiveWorker(this.#send, group);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const listener = this.#listener;
    this.#listener = undefined;
    // A listener still opening (the server is away) is closed once it opens; waiting for it
    // here would keep a stopped command running for as long as the server stays away.
    void listener?.then(
      (opened) => opened.close(),
      () => undefined,
    );
    this.#transport.close();
    await Promise.resolve();
  }

  /**
   * Which generation of server this is, so that the ids of what a job created are named as
   * its router and workers name them (server-generation.ts); asked once, again after a failure.
   */
  #learnGeneration(): Promise<Generation> {
    this.#generation ??= learnServerGeneration(this.#connection, this.#transport).catch(
      (error: unknown) => {
        this.#generation = undefined;
        throw error;
      },
    );
    return this.#generation;
  }

  /**
   * One listener stream per client, opened on first wait; reopened after a failed open. Its
   * group and pid start with the token's prefix, where it has one: a token scoped to a prefix
   * may only listen there.
   */
  #listen(): Promise<Listener> {
    const prefix = tokenPrefix(this.#connection.token);
    this.#listener ??= openListener(
      this.#transport,
      `${prefix}modulate-client`,
      // Several clients in one process (the dashboard, a test) each listen on their own.
      `${prefix}${processPid("client", hostname(), process.pid)}-${randomBytes(3).toString("hex")}`,
    ).catch((error: unknown) => {
      this.#listener = undefined;
      throw error instanceof ServerUnavailable ? unreachable(this.#connection, error) : error;
    });
    return this.#listener;
  }
}

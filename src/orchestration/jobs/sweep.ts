// A sweep: many jobs submitted as one, under one id. Its jobs are `S.1`, `S.2`, ... (the k-th
// script, or the k-th index of an array); a retry of `S.3` is `S.3-r2`, a new job of the same
// sweep. The sweep's own promise `S` holds its record; each job carries its place in the sweep
// in its spec and in a tag, so one search finds a sweep's jobs on any Resonate server. Pure.
import { jobIdProblem } from "./names.ts";

/** Tags of a sweep's promises. */
export const SWEEP_TAG = {
  /** On every promise of a sweep's jobs (root and execute), and on the sweep's own: its id. */
  of: "modulate:sweep",
} as const;

/** The kind tag (`modulate:kind`) of a sweep's own promise. */
export const SWEEP_KIND = "sweep";

/** A job's place in its sweep, in its spec. */
export interface SweepMember {
  /** The sweep's id. */
  id: string;
  /** Which job of the sweep, from 1. */
  index: number;
  /** How many jobs the sweep has. */
  count: number;
  /**
   * At most this many of the sweep's first jobs run at once: job k is routed only once job
   * k - maxRunning has ended (the router holds it until then). Absent: no cap.
   */
  maxRunning?: number;
  /** 2 and up for a job that `retry` resubmitted; absent for the first. */
  retry?: number;
  /** For a job of `--array`: its array index (MODULATE_ARRAY_INDEX, SLURM_ARRAY_TASK_ID). */
  arrayIndex?: number;
}

/** The sweep's own record, the param of its promise. */
export interface SweepRecord {
  kind: "modulate.sweep";
  id: string;
  group: string;
  count: number;
  /** The scripts' names, in job order (one for an array). */
  scripts: string[];
  /** The array's indices, in job order, for `--array`. */
  array?: number[];
  maxRunning?: number;
  submittedAt: number;
}

export function isSweepRecord(value: unknown): value is SweepRecord {
  const record = value as Partial<SweepRecord> | null | undefined;
  return (
    typeof record === "object" &&
    record !== null &&
    record.kind === "modulate.sweep" &&
    typeof record.id === "string" &&
    typeof record.count === "number"
  );
}

/** The id of job `index` of sweep `sweepId`, or of its retry `retry`. */
export function sweepJobId(sweepId: string, index: number, retry?: number): string {
  return retry === undefined || retry < 2 ? `${sweepId}.${index}` : `${sweepId}.${index}-r${retry}`;
}

/** What is wrong with a sweep member's id and place, if anything (the router's check). */
export function sweepMemberProblem(jobId: string, member: SweepMember): string | undefined {
  const idProblem = jobIdProblem(member.id);
  if (idProblem) return idProblem.replace("job id", "sweep id");
  if (!Number.isInteger(member.index) || member.index < 1 || member.index > member.count)
    return `sweep job index ${member.index} is not between 1 and ${member.count}`;
  if (
    member.maxRunning !== undefined &&
    (!Number.isInteger(member.maxRunning) || member.maxRunning < 1)
  )
    return `sweep max-running ${member.maxRunning} is not a positive whole number`;
  if (jobId !== sweepJobId(member.id, member.index, member.retry))
    return `"${jobId}" is not the id of job ${member.index} of sweep ${member.id}`;
  return undefined;
}

/** The jobs of the sweep's lane that job `index` heads, after it: index + m, index + 2m, ... */
export function laneAfter(member: SweepMember): number[] {
  const m = member.maxRunning;
  if (m === undefined || member.retry !== undefined || member.index > m) return [];
  const lane: number[] = [];
  for (let k = member.index + m; k <= member.count; k += m) lane.push(k);
  return lane;
}

/** True when the router holds this job until an earlier one of its lane ends. */
export function isHeldInLane(member: SweepMember | undefined): boolean {
  return (
    member?.maxRunning !== undefined &&
    member.retry === undefined &&
    member.index > member.maxRunning
  );
}

/** `--array` as Slurm writes it: `0-49`, `1,3,5`, `0-9:2` (a step), `%8` a cap at the end. */
export interface ArraySpec {
  indices: number[];
  maxRunning?: number;
}

/** The most jobs one array or sweep may have. */
export const MAX_SWEEP_JOBS = 10_000;

export function parseArray(text: string): ArraySpec {
  const bad = (why: string): Error =>
    new Error(
      `--array "${text}" ${why}: write a range and an optional cap, e.g. 0-49 or 0-49%8 (also 1,3,5 or 0-20:2)`,
    );
  const [list = "", cap, ...extra] = text.split("%");
  if (extra.length > 0) throw bad("has more than one %");
  const indices: number[] = [];
  for (const part of list.split(",")) {
    const match = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!match) throw bad(`has "${part}", not a number or a range`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    const step = match[3] === undefined ? 1 : Number(match[3]);
    if (to < from) throw bad(`has the range ${part}, which ends before it starts`);
    if (step < 1) throw bad("has a step of 0");
    for (let i = from; i <= to; i += step) {
      indices.push(i);
      if (indices.length > MAX_SWEEP_JOBS) throw bad(`makes more than ${MAX_SWEEP_JOBS} jobs`);
    }
  }
  if (cap === undefined) return { indices };
  if (!/^\d+$/.test(cap) || Number(cap) < 1) throw bad(`caps at "${cap}", not a positive number`);
  return { indices, maxRunning: Number(cap) };
}

/** The sweep and job index an id names: `S.12` or `S.12-r3`; undefined for a plain job id. */
export function parseSweepJobId(
  id: string,
): { sweepId: string; index: number; retry?: number } | undefined {
  const match = /^([^.:]+)\.(\d+)(?:-r(\d+))?$/.exec(id);
  if (!match) return undefined;
  const sweepId = match[1] ?? "";
  const index = Number(match[2]);
  return match[3] === undefined ? { sweepId, index } : { sweepId, index, retry: Number(match[3]) };
}

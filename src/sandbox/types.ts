// The values that cross the sandbox's boundary. Everything here is plain data (JSON-safe
// except where noted) so that the worker can store it in a result record unchanged.
import type { JobCgroup } from "./cgroup.ts";
import type { Ending, OutcomeNote } from "./outcome.ts";
import type { HostView } from "./view.ts";

/** Limits of one job. Every field is a ceiling; `undefined` in a request means "the worker's". */
export interface JobLimits {
  /** Wall-clock time before SIGTERM goes to every process of the job. */
  readonly timeoutMs: number;
  /** Time between that SIGTERM and SIGKILL. */
  readonly killGraceMs: number;
  /** CPU time (user + system) of each process: SIGXCPU, then SIGKILL one second later. */
  readonly cpuTimeMs: number;
  /** Memory of the whole job (cgroup), or of each process (RLIMIT_DATA) where no cgroup. */
  readonly memoryBytes: number;
  /** Largest file a process may write: SIGXFSZ past it. */
  readonly maxFileBytes: number;
  /** Processes and threads of the whole job (cgroup pids), or of the job user (RLIMIT_NPROC). */
  readonly maxProcs: number;
  /** Bytes kept of each of stdout and stderr: half from the head, half from the tail. */
  readonly maxOutputBytes: number;
}

/** One attempt at one job, as the worker hands it over. */
export interface JobRequest {
  /** The submission's id; names the log and working directories (sanitised). */
  readonly jobId: string;
  /** 1 for the first run; a re-run after a worker crash gets a fresh number and directory. */
  readonly attempt: number;
  /** File name the script is written as, e.g. "train.py": its extension picks the interpreter. */
  readonly scriptName: string;
  /** The script's text (or bytes). */
  readonly script: string | Uint8Array;
  /** Arguments after `--` on the submit line, passed to the script unchanged. */
  readonly args?: readonly string[];
  /** `--env K=V` of the submission, already split. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * For one job of an array (`submit --array`): its index, set as MODULATE_ARRAY_INDEX and
   * SLURM_ARRAY_TASK_ID (so a Slurm array script runs unchanged).
   */
  readonly arrayIndex?: number;
  /** Limits the submission asks for: each may only lower the worker's default. */
  readonly limits?: Partial<JobLimits>;
  /** Files (relative to the job's directory) to return with the result: `--output FILE`. */
  readonly outputs?: readonly string[];
  /** Whether the submission asks for network access; granted only if the worker allows it. */
  readonly networkWanted?: boolean;
  /**
   * GPU ids this attempt may use (from a `GpuSets` lease). Empty: none, and CUDA sees none
   * (a job beside GPU jobs on a GPU worker); absent: none, and CUDA_VISIBLE_DEVICES unset.
   */
  readonly gpuIds?: readonly string[];
  /**
   * A named interpreter the submission asked for (`worker --interpreter NAME=PATH`): it runs
   * the script in place of the one the script's kind picks. Absent: the kind's.
   */
  readonly interpreter?: ResolvedInterpreter;
  /**
   * The disk area (from a `DiskAreaPool` lease) to make this attempt's directory in, so
   * that it can write no more than the area holds; absent: directly under `workRoot`.
   */
  readonly diskArea?: DiskArea;
  /**
   * The handle on the worker's cgroup for this slot (see cgroup-slots.ts), not plain data;
   * absent: one is made per attempt.
   */
  readonly cgroup?: JobCgroup;
  /**
   * An empty directory made for this attempt already (by its slot's standby, inside
   * `diskArea` if given); absent: the attempt gets a fresh one named after the job.
   */
  readonly workDir?: string;
}

/** A filesystem of its own for one job at a time: its size is that job's disk quota. */
export interface DiskArea {
  /** Where it is mounted: a directory under the worker's `workRoot`. */
  readonly dir: string;
  readonly sizeBytes: number;
}

/** How an interpreter was found, so the worker can say so at start-up. */
export interface ResolvedInterpreter {
  /** Absolute path of the executable to spawn. */
  readonly path: string;
  /** Arguments before the script's path (e.g. `["-I"]`, or `["__script-host", "--"]`). */
  readonly prefixArgs: readonly string[];
  /** In words: how it was chosen (e.g. "python3 on PATH is a pyenv shim: using ..."). */
  readonly note: string;
}

export interface Interpreters {
  readonly python?: ResolvedInterpreter;
  readonly bash?: ResolvedInterpreter;
  /** The node that runs `.js`/`.mjs`: modulate's own `__script-host` in the single executable. */
  readonly node?: ResolvedInterpreter;
}

/** The unprivileged user jobs run as (a worker running as root needs one for limits to bind). */
export interface JobUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** Per-controller cgroup directories under which the worker makes one cgroup per job. */
export type CgroupSetup =
  | { readonly version: 1; readonly pidsRoot: string; readonly memoryRoot: string }
  | { readonly version: 2; readonly root: string };

export type SandboxMode = "bwrap" | "none";

/** What the worker decides once at start-up (see `probe.ts`), then passes to every job. */
export interface SandboxConfig {
  /** `bwrap`: each job in bubblewrap; `none`: limits only. */
  readonly mode: SandboxMode;
  /** Absolute path of bwrap (mode `bwrap`). */
  readonly bwrapPath?: string;
  /** Absolute path of util-linux `prlimit`; without it no rlimits are set. */
  readonly prlimitPath?: string;
  /** Absolute path of util-linux `setpriv`; needed with `jobUser`. */
  readonly setprivPath?: string;
  /** Run jobs as this user; absent: as the worker's own user. */
  readonly jobUser?: JobUser;
  /** Where per-job cgroups are made; absent: no cgroups (rlimits stand in). */
  readonly cgroup?: CgroupSetup;
  /** The worker's limits; a request may only lower them. */
  readonly defaultLimits: JobLimits;
  readonly interpreters: Interpreters;
  /**
   * Paths of the worker's named interpreters (and a venv's root), bound read-only under
   * bwrap so that whichever one a job asks for is there.
   */
  readonly namedInterpreterPaths?: readonly string[];
  /** Whether a submission that asks for network may have it. Default false. */
  readonly networkAllowed: boolean;
  /** Directory under which each attempt gets a fresh working directory. */
  readonly workRoot: string;
  /** Directory of per-attempt logs: `<logDir>/<jobId>/attempt-<n>.jsonl`. */
  readonly logDir: string;
  /** What of the host a job sees under bwrap, found at start-up; absent: the program dirs only. */
  readonly view?: HostView;
  /** Paths the job must not see under bwrap (e.g. the worker's data dir); `workRoot` always is. */
  readonly hiddenPaths?: readonly string[];
  /** Device nodes bound into bwrap when a job has GPUs (e.g. /dev/nvidia0, /dev/nvidiactl). */
  readonly gpuDevicePaths?: readonly string[];
  /** Environment every job starts from, picked from the worker's by `pickBaseEnv`. */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** Largest declared output file returned; larger ones are cut. Default 16 MiB. */
  readonly maxOutputFileBytes?: number;
}

export type JobState = "succeeded" | "failed" | "timed_out" | "canceled";

/** Some of a stream: its first and last bytes when it was longer than the cap. */
export interface CapturedOutput {
  /** Decoded as UTF-8; invalid bytes become U+FFFD. */
  readonly head: string;
  /** Empty unless bytes were dropped between head and tail. */
  readonly tail: string;
  readonly totalBytes: number;
  readonly droppedBytes: number;
}

/** A declared output file as found after the job ended. */
export interface OutputFile {
  /** As declared, relative to the job's directory. */
  readonly path: string;
  /** Whether the job left a regular file there. */
  readonly found: boolean;
  readonly sizeBytes: number;
  /** Its bytes, cut at `maxOutputFileBytes`. */
  readonly contentBase64: string;
  readonly truncated: boolean;
}

export interface JobOutcome {
  readonly jobId: string;
  readonly attempt: number;
  readonly state: JobState;
  /** How the job ended, as data: decide on this, never on `reason`'s words. */
  readonly ending: Ending;
  /** What else the sandbox noticed (a limit reached, output dropped...), as data. */
  readonly notes: readonly OutcomeNote[];
  /**
   * `ending` and `notes` for a person, rendered by `describeOutcome`:
   * "killed: memory limit 512 MiB exceeded".
   */
  readonly reason: string;
  readonly exitCode: number | null;
  /** The signal that ended the script's main process, e.g. "SIGKILL". */
  readonly signal: string | null;
  readonly stdout: CapturedOutput;
  readonly stderr: CapturedOutput;
  readonly durationMs: number;
  readonly outputs: readonly OutputFile[];
  readonly gpuIds: readonly string[];
  /** The limits that applied after merging the request with the worker's defaults. */
  readonly limits: JobLimits;
  /** The per-attempt log of timestamped lines. */
  readonly logFile: string;
  readonly sandbox: {
    readonly mode: SandboxMode;
    readonly user?: string;
    readonly cgroup: boolean;
  };
}

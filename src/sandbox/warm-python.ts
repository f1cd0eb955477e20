// A warm python: a slot's standby can wait as `python -I -c LOADER`, an interpreter that has
// already started (behind setpriv, inside the slot's next sandbox, as the cold command runs),
// and run its job's script in itself when handed it, taking python's own start (20-35 ms here)
// off the job's path. One interpreter a job, started before the job came and never reused:
// isolation is that of a cold start; only the start moved earlier. Pure: the loader's text,
// the hand-over record and the decision of which jobs it may run as if started cold.
import type { JobRlimits } from "./limits.ts";
import { PYTHON_FLAGS } from "./python-flags.ts";

/** The descriptor the loader reads its record from (standby.ts writes it). */
export const WARM_RECORD_FD = 4;
/** The descriptor the loader says "ready" on, then closes. */
export const WARM_READY_FD = 3;

/** The rlimits the loader can set, in the order of the hard limits it reports when ready. */
export const WARM_RLIMITS = [
  "RLIMIT_CPU",
  "RLIMIT_FSIZE",
  "RLIMIT_CORE",
  "RLIMIT_DATA",
  "RLIMIT_NPROC",
] as const;
export type WarmRlimitName = (typeof WARM_RLIMITS)[number];

// The record is NUL-separated strings (no value of argv or env can hold a NUL), so that the
// loader needs no json, whose import (re, enum...) would stay in sys.modules. Its fields:
//   mode ("run": the script in this interpreter; "exec": os.execve the job's own command),
//   cwd, then counted lists: argv, env as name/value pairs, rlimits as name/soft/hard
//   (-1: unlimited), the names the interpreter was started with in its environment.
// Python 3.8 and later: sys.orig_argv (3.10) is set only where it exists.
export const WARM_LOADER = String.raw`import os, sys
import resource
_R = (${WARM_RLIMITS.map((name) => `"${name}"`).join(", ")})
# What python put into its own environment at start (LC_CTYPE, where it coerced a C locale).
_boot = dict(os.environ)
os.write(${WARM_READY_FD}, ("ready " + " ".join(str(resource.getrlimit(getattr(resource, n))[1]) for n in _R) + "\n").encode())
os.close(${WARM_READY_FD})
# The go line, read with os.read: nothing may sit in sys.stdin's buffer. None: discarded.
if not os.read(0, 64):
    os._exit(0)
_parts = []
while True:
    _chunk = os.read(${WARM_RECORD_FD}, 1 << 16)
    if not _chunk:
        break
    _parts.append(_chunk)
os.close(${WARM_RECORD_FD})
_fields = iter(b"".join(_parts).split(b"\0"))
def _next():
    return os.fsdecode(next(_fields))
def _list(width):
    return [[_next() for _ in range(width)] for _ in range(int(_next()))]
_mode = _next()
_cwd = _next()
_argv = [f for (f,) in _list(1)]
_env = dict(_list(2))
_limits = _list(3)
_start = set(f for (f,) in _list(1))
del _fields, _parts
_null = os.open("/dev/null", os.O_RDONLY)
os.dup2(_null, 0)
os.close(_null)
try:
    os.chdir(_cwd)
except OSError as e:
    sys.stderr.write("modulate: cannot enter %s: %s\n" % (_cwd, e.strerror))
    os._exit(127)
try:
    for _name, _soft, _hard in _limits:
        resource.setrlimit(getattr(resource, _name), (int(_soft), int(_hard)))
except (OSError, ValueError) as e:
    sys.stderr.write("modulate: cannot set %s: %s\n" % (_name, e))
    os._exit(126)
del sys.modules["resource"], resource
if _mode == "exec":
    # A job this interpreter cannot run as if started cold: its own command, in place.
    os.environ.clear()
    os.environ.update(_env)
    try:
        os.execve(_argv[0], _argv, _env)
    except OSError as e:
        sys.stderr.write("modulate: cannot run %s: %s\n" % (_argv[0], e.strerror))
        os._exit(126 if isinstance(e, PermissionError) else 127)
for _name, _value in _boot.items():
    if _name not in _start and _name not in ("PWD", "OLDPWD"):
        _env.setdefault(_name, _value)
os.environ.clear()
os.environ.update(_env)
# _argv is the cold command: python, its flags (python-flags.ts), the script, its arguments.
_python = _argv[0]
_script = _argv[${PYTHON_FLAGS.length + 1}]
sys.argv[:] = _argv[${PYTHON_FLAGS.length + 1}:]
if hasattr(sys, "orig_argv"):
    sys.orig_argv[:] = _argv
# Python 3.13 imports linecache for -c's own source; a cold start of a script does not.
if sys.version_info >= (3, 13):
    sys.modules.pop("linecache", None)
# /proc/self/cmdline (ps, pgrep) shows the cold command: written over this interpreter's own
# arguments, which the worker made sure are longer, the rest zeroed. Best effort.
_stat = _title = None
try:
    with open("/proc/self/stat", "rb") as _file:
        _stat = _file.read()
    _stat = _stat[_stat.rindex(b")") + 2 :].split()
    _args_at, _args_end = int(_stat[45]), int(_stat[46])
    _title = b"\0".join(os.fsencode(_arg) for _arg in _argv) + b"\0"
    if len(_title) <= _args_end - _args_at:
        _mem = os.open("/proc/self/mem", os.O_RDWR)
        try:
            os.pwrite(_mem, _title.ljust(_args_end - _args_at, b"\0"), _args_at)
        finally:
            os.close(_mem)
except (OSError, ValueError, IndexError):
    pass
_main = type(sys)("__main__")
_main.__annotations__ = {}
_main.__builtins__ = sys.modules["builtins"]
_main.__file__ = _script
_main.__cached__ = None
_main.__loader__ = sys.modules["_frozen_importlib_external"].SourceFileLoader("__main__", _script)
sys.modules["__main__"] = _main
del _boot, _env, _limits, _start, _argv, _cwd, _mode, _null, _stat, _title
try:
    with open(_script, "rb") as _file:
        _source = _file.read()
except OSError as e:
    # In cold python's words, and its status: the script was never run.
    sys.stderr.write("%s: can't open file %r: [Errno %d] %s\n" % (_python, _script, e.errno, e.strerror))
    sys.exit(2)
try:
    _code = compile(_source, _script, "exec", dont_inherit=True)
    del _source
    exec(_code, _main.__dict__)
except SystemExit:
    raise
except BaseException as e:
    # As cold python reports it: through sys.excepthook (the script's own, if it set one),
    # without this loader's frame.
    _tb = e.__traceback__
    while _tb is not None and _tb.tb_frame.f_globals is globals():
        _tb = _tb.tb_next
    e.__traceback__ = _tb
    sys.last_type, sys.last_value, sys.last_traceback = type(e), e, _tb
    sys.excepthook(type(e), e, _tb)
    if not isinstance(e, KeyboardInterrupt):
        sys.exit(1)
    # Reported already; raised again so that python ends by SIGINT after its shutdown, as a
    # cold one does for an uncaught KeyboardInterrupt.
    sys.excepthook = lambda *_: None
    raise
`;

/** The interpreter's command line to wait as (after bwrap and setpriv, if any). */
export function warmPythonArgv(python: string): string[] {
  return [python, ...PYTHON_FLAGS, "-c", WARM_LOADER];
}

/** Bytes of a command line as the kernel keeps it: each argument and its NUL. */
function argvBytes(argv: readonly string[]): number {
  return argv.reduce((sum, arg) => sum + Buffer.byteLength(arg) + 1, 0);
}

/**
 * Whether the cold command `argv` fits where the warm python's own arguments are, which the
 * loader overwrites with it so that /proc/PID/cmdline shows it: a longer one runs cold.
 */
export function fitsCommandLine(python: string, argv: readonly string[]): boolean {
  return argvBytes(argv) <= argvBytes(warmPythonArgv(python));
}

/**
 * Environment names python reads at its start under -I (which ignores PYTHON*): the locale
 * (stdio and file system encodings, UTF-8 mode, the C locale's coercion), TZ (`time` is
 * imported at start), and what setuptools' .pth file reads in site-packages. A job differing
 * in one of them gets a python of its own. A .pth file of a site-packages that reads another
 * name is not known here: the README says so.
 */
export function readAtStart(name: string): boolean {
  return (
    name === "LANG" ||
    name === "LANGUAGE" ||
    name === "TZ" ||
    name === "SETUPTOOLS_USE_DISTUTILS" ||
    name.startsWith("LC_")
  );
}

/** The environment a warm python is started with: the part of `base` it reads at start. */
export function warmStartEnv(base: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) if (readAtStart(name)) env[name] = value;
  return env;
}

/** True where a job with `env` would see the same interpreter start as one with `start`. */
export function sameStart(
  env: Readonly<Record<string, string>>,
  start: Readonly<Record<string, string>>,
): boolean {
  const names = new Set([...Object.keys(env), ...Object.keys(start)].filter(readAtStart));
  return [...names].every((name) => env[name] === start[name]);
}

export interface WarmRecord {
  /** `run`: the script in the warm interpreter; `exec`: the job's own command in its place. */
  readonly mode: "run" | "exec";
  readonly cwd: string;
  /** `run`: [python, ...PYTHON_FLAGS, script, ...args], the cold command; `exec`: the program's argv. */
  readonly argv: readonly string[];
  /** Exactly the job's environment (python's own additions at start are the loader's). */
  readonly env: Readonly<Record<string, string>>;
  readonly rlimits: readonly (readonly [WarmRlimitName, number, number])[];
  /** The names of the environment the interpreter was started with. */
  readonly startNames: readonly string[];
}

/** `limits.ts`'s rlimits as the loader sets them: soft and hard, -1 for unlimited. */
export function warmRlimits(r: JobRlimits): [WarmRlimitName, number, number][] {
  const limits: [WarmRlimitName, number, number][] = [
    ["RLIMIT_CPU", r.cpuSeconds.soft, r.cpuSeconds.hard],
    ["RLIMIT_FSIZE", r.fileBytes, r.fileBytes],
    ["RLIMIT_CORE", 0, 0],
  ];
  if (r.dataBytes !== undefined) limits.push(["RLIMIT_DATA", r.dataBytes, r.dataBytes]);
  if (r.processes !== undefined) limits.push(["RLIMIT_NPROC", r.processes, r.processes]);
  return limits;
}

/**
 * Whether the loader, an unprivileged process, can set these: none may go above the hard
 * limit it reported when ready (-1: unlimited).
 */
export function rlimitsFit(
  wanted: readonly (readonly [WarmRlimitName, number, number])[],
  hard: Readonly<Partial<Record<WarmRlimitName, number>>>,
): boolean {
  return wanted.every(([name, , want]) => {
    const have = hard[name];
    return have !== undefined && (have === -1 || (want !== -1 && want <= have));
  });
}

/** The loader's "ready" line: the hard limits, in `WARM_RLIMITS`' order. */
export function parseReady(line: string): Partial<Record<WarmRlimitName, number>> | undefined {
  const words = line.trim().split(/\s+/);
  if (words[0] !== "ready" || words.length !== WARM_RLIMITS.length + 1) return undefined;
  const hard: Partial<Record<WarmRlimitName, number>> = {};
  WARM_RLIMITS.forEach((name, i) => {
    const value = Number(words[i + 1]);
    if (Number.isSafeInteger(value)) hard[name] = value;
  });
  return hard;
}

/** The record's bytes, as the loader reads them from its fd 4. */
export function encodeWarmRecord(record: WarmRecord): string {
  const fields: string[] = [record.mode, record.cwd];
  const list = (rows: readonly (readonly (string | number)[])[]): void => {
    fields.push(String(rows.length));
    for (const row of rows) for (const field of row) fields.push(String(field));
  };
  list(record.argv.map((arg) => [arg]));
  list(Object.entries(record.env));
  list(record.rlimits);
  list(record.startNames.map((name) => [name]));
  for (const field of fields) {
    if (field.includes("\0")) throw new Error(`a NUL byte in ${JSON.stringify(field)}`);
  }
  return fields.join("\0");
}

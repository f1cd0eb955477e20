// How modulate starts a job's python, cold or warm (warm-python.ts): one list, so that the two
// starts cannot drift apart.
//   -I  isolated: no PYTHON* variables, no user site-packages, not the script's directory on
//       sys.path; what the worker's environment holds does not reach the interpreter's start.
//   -u  stdout and stderr unbuffered: a plain print() reaches `logs --follow` as it is printed.
//       (PYTHONUNBUFFERED in the job's environment cannot do it: -I ignores it.)
export const PYTHON_FLAGS: readonly string[] = ["-I", "-u"];

/** True where `args` starts with exactly these flags (a python the worker found or was given). */
export function startsWithPythonFlags(args: readonly string[]): boolean {
  return PYTHON_FLAGS.every((flag, i) => args[i] === flag);
}

// Poll addresses, as the Resonate SDK writes them and every server routes them: a promise's
// `resonate:target` and a process's own addresses. Built here only, so that the client, the
// router, the worker and their records cannot drift from the one shape servers read.

/**
 * `poll://any@GROUP[/PID]`: one member of `group`, the process `pid` while it is connected
 * (where a process asks for its own work to come back to it).
 */
export function anycastAddress(group: string, pid?: string): string {
  return pid === undefined ? `poll://any@${group}` : `poll://any@${group}/${pid}`;
}

/** `poll://uni@GROUP/PID`: the process `pid` of `group`, and no other. */
export function unicastAddress(group: string, pid: string): string {
  return `poll://uni@${group}/${pid}`;
}

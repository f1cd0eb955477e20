// The unprivileged user jobs run as. A worker running as root needs one: RLIMIT_NPROC does not
// bind root, and root can read every file the job should not.
import { execa } from "execa";
import { SandboxSetupError } from "./errors.ts";
import type { JobUser } from "./types.ts";

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** Parses one `getent passwd` line: "name:x:uid:gid:gecos:home:shell". */
function parsePasswdLine(line: string): JobUser | undefined {
  const [name, , uid, gid] = line.trim().split(":");
  if (!name || uid === undefined || gid === undefined) return undefined;
  const user = { name, uid: Number(uid), gid: Number(gid) };
  return Number.isInteger(user.uid) && Number.isInteger(user.gid) ? user : undefined;
}

async function lookUp(name: string): Promise<JobUser | undefined> {
  // getent, not /etc/passwd: the user may come from LDAP or another NSS source.
  const result = await execa("getent", ["passwd", name], { reject: false });
  return result.exitCode === 0 ? parsePasswdLine(result.stdout) : undefined;
}

/**
 * The user `--run-as NAME` names; made (a system user with no home and no login shell) when
 * missing and `create` is set. Refuses root, which would defeat the point.
 */
export async function ensureJobUser(name: string, create: boolean): Promise<JobUser> {
  if (!USER_NAME.test(name)) {
    throw new SandboxSetupError(
      `--run-as ${JSON.stringify(name)} is not a valid user name: use lower-case letters, digits, '-' and '_'`,
    );
  }
  let user = await lookUp(name);
  if (!user && create) {
    const made = await execa(
      "useradd",
      [
        "--system",
        "--user-group",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        "/usr/sbin/nologin",
        name,
      ],
      { reject: false },
    );
    if (made.exitCode !== 0 && made.exitCode !== 9) {
      // 9: made meanwhile by another worker starting beside this one.
      throw new SandboxSetupError(
        `cannot create job user ${name} with useradd: ${made.stderr.trim()}`,
      );
    }
    user = await lookUp(name);
  }
  if (!user)
    throw new SandboxSetupError(
      `--run-as ${name}: no such user; create it or let the worker create it`,
    );
  if (user.uid === 0)
    throw new SandboxSetupError(
      `--run-as ${name}: uid 0 is root, which no limit binds; name an unprivileged user`,
    );
  return user;
}

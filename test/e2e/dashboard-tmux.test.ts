// The dashboard as a person sees it: the built binary in a real terminal (tmux) at 80x24, read
// from the screen, driven and quit with keys, against a real server, router and workers.
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import {
  eventually,
  JOB_FIXTURES,
  MODULATE,
  start,
  startServerProcess,
  stopAll,
  tempDir,
} from "../helpers/processes.ts";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const sessions: string[] = [];

afterEach(async () => {
  for (const session of sessions.splice(0)) spawnSync("tmux", ["kill-session", "-t", session]);
  await stopAll();
});

function screen(session: string): string {
  return execFileSync("tmux", ["capture-pane", "-p", "-t", session]).toString();
}

function keys(session: string, ...keys: string[]): void {
  execFileSync("tmux", ["send-keys", "-t", session, ...keys]);
}

async function screenWith(session: string, what: string, test: (text: string) => boolean) {
  return eventually(() => {
    const text = screen(session);
    return test(text) ? text : undefined;
  }, what);
}

describe("the dashboard in a terminal", () => {
  it.skipIf(!hasTmux)(
    "at 80x24: the groups, a job submitted from the form with its live output, canceled from the list, q quits (needs tmux)",
    async () => {
      const dev = start(MODULATE, ["dev", "--in-memory", "--port", "0", "--groups", "cpu,gpu"]);
      const url = (await dev.waitFor(/server (http:\/\/\S+),/))[1] ?? "";
      const session = `modulate-test-${randomUUID().slice(0, 8)}`;
      sessions.push(session);
      execFileSync("tmux", [
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "80",
        "-y",
        "24",
        `${MODULATE} ui --url ${url} --refresh 300ms`,
      ]);
      // Nothing submitted yet: it opens on the groups, each with its one worker's two slots.
      const groups = await screenWith(
        session,
        "both groups",
        (t) => /cpu\s+1\s+0\/2/.test(t) && /gpu\s+1\s+0\/2/.test(t),
      );
      expect(groups).toMatch(/GROUP\s+WORKERS\s+SLOTS/);
      // The submit form: a script path typed and completed with Tab, a group typed over the
      // default, the script's argument; Enter submits and opens the job's detail.
      keys(session, "s");
      await screenWith(session, "the form", (t) => t.includes("Submit a job"));
      keys(session, "-l", join(JOB_FIXTURES, "sleep"));
      keys(session, "Tab");
      await screenWith(session, "the path completed", (t) => t.includes("sleepy.py█"));
      keys(session, "Tab", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace");
      keys(session, "-l", "cpu");
      keys(session, "Tab");
      keys(session, "-l", "120");
      await screenWith(
        session,
        "the form filled",
        (t) => /Group\s+cpu\s/.test(t) && t.includes("120█"),
      );
      keys(session, "Enter");
      // The job's output, read live from its worker through the server.
      const detail = await screenWith(
        session,
        "its live output, running",
        (t) => t.includes("started in") && /running\s+sleepy\.py\s+group cpu/.test(t),
      );
      const id = /job (job-[\w-]+)/.exec(detail)?.[1] ?? "";
      expect(id).not.toBe("");
      // Back to the list it came from, the groups; then the jobs (a key of its own: an Esc
      // followed at once by another key reads as Alt and that key).
      keys(session, "Escape");
      await screenWith(session, "the groups again", (t) => /cpu\s+1\s+1\/2/.test(t));
      keys(session, "2");
      await screenWith(session, "the jobs", (t) => new RegExp(`running\\s+${id}`).test(t));
      keys(session, "c");
      await screenWith(session, "the confirmation", (t) => t.includes(`Cancel job ${id}? y/N`));
      keys(session, "y");
      await screenWith(session, "the cancel done", (t) => t.includes(`canceled ${id}`));
      keys(session, "a");
      await screenWith(session, "the job canceled in the list", (t) =>
        new RegExp(`canceled\\s+${id}`).test(t),
      );
      for (const line of screen(session).split("\n")) expect(line.length).toBeLessThanOrEqual(80);
      keys(session, "q");
      await eventually(
        () => (spawnSync("tmux", ["has-session", "-t", session]).status !== 0 ? true : undefined),
        "the dashboard to quit",
      );
      // Stopped as a person would: a killed dev leaves its disk areas mounted until it next starts.
      dev.kill("SIGINT");
      expect(await dev.exited()).toBe(0);
    },
  );

  it.skipIf(!hasTmux)(
    "modulate dev on a terminal opens the dashboard on its own stack, and q stops both (needs tmux)",
    async () => {
      const session = `modulate-test-${randomUUID().slice(0, 8)}`;
      sessions.push(session);
      execFileSync("tmux", [
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "80",
        "-y",
        "24",
        `${MODULATE} dev --in-memory --port 0 --groups cpu,gpu`,
      ]);
      await screenWith(
        session,
        "dev's two groups",
        (t) => /cpu\s+1\s+0\/2/.test(t) && /gpu\s+1\s+0\/2/.test(t),
      );
      keys(session, "q");
      // The dashboard closed, dev stopped its server, router and workers and exited: the
      // session, whose only process it was, is gone.
      await eventually(
        () => (spawnSync("tmux", ["has-session", "-t", session]).status !== 0 ? true : undefined),
        "dev to stop",
      );
    },
  );

  it.skipIf(!hasTmux)(
    "says reconnecting, with its data's age, while the server is away, and recovers by itself (needs tmux)",
    async () => {
      const data = tempDir();
      const server = await startServerProcess(["--data", data]);
      const port = new URL(server.url).port;
      // No router: the job stays routing, listed until it is routed.
      execFileSync(MODULATE, [
        "submit",
        "--url",
        server.url,
        "--detach",
        join(JOB_FIXTURES, "quick.py"),
      ]);
      const session = `modulate-test-${randomUUID().slice(0, 8)}`;
      sessions.push(session);
      execFileSync("tmux", [
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "80",
        "-y",
        "24",
        `${MODULATE} ui --url ${server.url} --refresh 300ms`,
      ]);
      await screenWith(session, "the routing job", (t) => /routing\s+job-/.test(t));
      server.kill("SIGKILL");
      await server.exited();
      const away = await screenWith(session, "reconnecting", (t) =>
        /reconnecting to \S+ \(data \d+(ms|s) old\)/.test(t),
      );
      expect(away).toMatch(/routing\s+job-/); // what it last saw stays on screen
      await startServerProcess(["--data", data, "--port", port]);
      const back = await screenWith(session, "recovered", (t) => !t.includes("reconnecting"));
      expect(back).toMatch(/routing\s+job-/);
      keys(session, "q");
    },
  );
});

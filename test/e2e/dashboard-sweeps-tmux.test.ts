// The dashboard's sweeps view as a person sees it: the built binary in a real terminal (tmux) at
// 80x24, against `modulate dev`'s real server, router and worker, with a capped sweep running:
// `4` shows it with its progress bar, Enter its jobs alone, Esc every job again, q quits.
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cluster.ts";
import { eventually, JOB_FIXTURES, MODULATE, start, stopAll } from "../helpers/processes.ts";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const sessions: string[] = [];

afterEach(async () => {
  for (const session of sessions.splice(0)) spawnSync("tmux", ["kill-session", "-t", session]);
  await stopAll();
});

function screen(session: string): string {
  return execFileSync("tmux", ["capture-pane", "-p", "-t", session]).toString();
}

async function screenWith(session: string, what: string, test: (text: string) => boolean) {
  return eventually(() => {
    const text = screen(session);
    return test(text) ? text : undefined;
  }, what);
}

describe("the dashboard's sweeps in a terminal", () => {
  it.skipIf(!hasTmux)(
    "at 80x24: 4 shows a running sweep with its bar, Enter its jobs alone, Esc every job, q quits (needs tmux)",
    async () => {
      const dev = start(MODULATE, ["dev", "--in-memory", "--port", "0", "--groups", "cpu"]);
      const url = (await dev.waitFor(/server (http:\/\/\S+),/))[1] ?? "";
      // A job of no sweep beside the sweep, and the sweep: 4 jobs, 2 at once, each 60 s.
      const solo = await runCli(url, "submit", join(JOB_FIXTURES, "quick.py"), "--detach");
      expect(solo.code, solo.out).toBe(0);
      const sweep = await runCli(
        url,
        "submit",
        join(JOB_FIXTURES, "sleepy.py"),
        "--array",
        "1-4%2",
        "--id",
        "tsw",
        "--group",
        "cpu",
        "--",
        "60",
      );
      expect(sweep.code, sweep.out).toBe(0);
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
      await screenWith(session, "the sweep's jobs", (t) => /running\s+tsw\.\d/.test(t));
      execFileSync("tmux", ["send-keys", "-t", session, "4"]);
      // Two of four running, two held by the cap: `>>>` for half the bar, `...` for the rest.
      const view = await screenWith(session, "the sweeps view", (t) =>
        /tsw\s+cpu\s+\[>+\.+\]\s+0\/4\s+0\s+2\s+2/.test(t),
      );
      expect(view).toMatch(/SWEEP\s+GROUP\s+PROGRESS\s+DONE\s+FAILED\s+RUNNING\s+QUEUED\s+AGE/);
      for (const line of view.split("\n")) expect(line.length).toBeLessThanOrEqual(80);
      execFileSync("tmux", ["send-keys", "-t", session, "Enter"]);
      const jobs = await screenWith(
        session,
        "the sweep's jobs alone",
        // The two its cap holds too, which only the sweep's own view lists.
        (t) =>
          t.includes("sweep tsw") &&
          /queued\s+tsw\.4\s+cpu\s+sleepy\.py\s+\S+\s+held until/.test(t),
      ).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${screen(session)}`);
      });
      expect(jobs).not.toContain(solo.out.trim().split("\n").pop() ?? "?");
      execFileSync("tmux", ["send-keys", "-t", session, "Escape"]);
      await screenWith(session, "the filter off", (t) => !t.includes("sweep tsw"));
      execFileSync("tmux", ["send-keys", "-t", session, "q"]);
      await eventually(
        () => (spawnSync("tmux", ["has-session", "-t", session]).status !== 0 ? true : undefined),
        "the dashboard to quit",
      );
      await runCli(url, "cancel", "tsw");
      dev.kill("SIGINT");
      expect(await dev.exited()).toBe(0);
    },
    120_000,
  );
});

// The dashboard as a person sees it: the built binary in a real terminal (tmux) at 80x24, read
// from the screen, driven and quit with keys, against a real server, router and workers.
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
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
    "at 80x24 shows the groups, a job's live output and cancels it from the list, and quits on q (needs tmux)",
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
      const id = `tmux-${randomUUID().slice(0, 8)}`;
      execFileSync(MODULATE, [
        "submit",
        "--url",
        url,
        "--group",
        "cpu",
        "--detach",
        "--id",
        id,
        join(JOB_FIXTURES, "sleepy.py"),
        "--",
        "120",
      ]);
      keys(session, "2");
      await screenWith(session, "the job running", (t) => new RegExp(`running\\s+${id}`).test(t));
      keys(session, "Enter");
      const detail = await screenWith(session, "its live output", (t) => t.includes("started in"));
      expect(detail).toContain(`job ${id}`);
      keys(session, "Escape");
      await screenWith(session, "the list again", (t) => t.includes("WORKER/REASON"));
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
});

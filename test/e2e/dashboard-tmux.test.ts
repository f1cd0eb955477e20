// The dashboard as a person sees it: the built binary in a real terminal (tmux), read from
// the screen, quit with a key.
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, MODULATE, start, stopAll } from "../helpers/processes.ts";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const sessions: string[] = [];

afterEach(async () => {
  for (const session of sessions.splice(0)) spawnSync("tmux", ["kill-session", "-t", session]);
  await stopAll();
});

function screen(session: string): string {
  return execFileSync("tmux", ["capture-pane", "-p", "-t", session]).toString();
}

describe("the dashboard in a terminal", () => {
  it.skipIf(!hasTmux)("shows live worker groups and quits on q (needs tmux)", async () => {
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
      "140",
      "-y",
      "30",
      `${MODULATE} ui --url ${url} --refresh 300ms`,
    ]);
    const shown = await eventually(() => {
      const text = screen(session);
      return text.includes("cpu 0/2 slots") && text.includes("gpu 0/2 slots") ? text : undefined;
    }, "both groups on screen");
    expect(shown).toContain("Workers (1)");
    execFileSync("tmux", ["send-keys", "-t", session, "q"]);
    await eventually(
      () => (spawnSync("tmux", ["has-session", "-t", session]).status !== 0 ? true : undefined),
      "the dashboard to quit",
    );
    // Stopped as a person would: a killed dev leaves its disk areas mounted until it next starts.
    dev.kill("SIGINT");
    expect(await dev.exited()).toBe(0);
  });
});

// The dashboard's sweeps view, rendered by ink-testing-library and driven by keys: each sweep
// with its progress bar and counts, Enter on one shows its jobs alone, and the `?` overlay
// lists the view's key (issue 17: "the dashboard shows sweeps with a progress bar").
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { App } from "../../src/app.tsx";
import { fakeSource } from "./fixture.ts";
import { SWEEP_JOBS, SWEEPS } from "./sweeps-fixture.ts";

const KEY = { enter: "\r", esc: "\u001B" };
const unmounts: (() => void)[] = [];
afterEach(() => {
  for (const unmount of unmounts.splice(0)) unmount();
});

function dashboard() {
  const asked: boolean[] = [];
  const source = {
    ...fakeSource(SWEEP_JOBS),
    listSweeps: (all: boolean) => {
      asked.push(all);
      return Promise.resolve(SWEEPS.filter((s) => all || !s.finished));
    },
  };
  const app = render(
    <App
      source={source}
      url="http://server:8001"
      refreshMs={60_000}
      color={false}
      size={{ columns: 100, rows: 24 }}
    />,
  );
  unmounts.push(app.unmount);
  const frameWhere = async (predicate: (frame: string) => boolean, what: string) => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const frame = app.lastFrame() ?? "";
      if (predicate(frame)) return frame;
      if (Date.now() > deadline) throw new Error(`no frame with ${what}; last frame:\n${frame}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  /** Presses until the frame shows `what`: the input listener attaches in an effect. */
  const pressUntil = async (keys: string, predicate: (frame: string) => boolean, what: string) => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      app.stdin.write(keys);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const frame = app.lastFrame() ?? "";
      if (predicate(frame)) return frame;
      if (Date.now() > deadline) throw new Error(`no frame with ${what}; last frame:\n${frame}`);
    }
  };
  const press = async (keys: string, predicate: (frame: string) => boolean, what: string) => {
    app.stdin.write(keys);
    return frameWhere(predicate, what);
  };
  return { ...app, asked, frameWhere, pressUntil, press };
}

describe("the dashboard's sweeps view", () => {
  it("shows each sweep with its progress bar on 4, and finished ones on a", async () => {
    const ui = dashboard();
    await ui.frameWhere((f) => f.includes("lr.9"), "the jobs");
    const view = await ui.pressUntil("4", (f) => f.includes("PROGRESS"), "the sweeps view");
    const lines = view.split("\n");
    expect(lines[0]).toContain("4 sweeps (1)");
    expect(lines[1]).toMatch(/SWEEP\s+GROUP\s+PROGRESS\s+DONE\s+FAILED\s+RUNNING\s+QUEUED\s+AGE/);
    // 5 done, 1 failed, 2 running, 2 queued of 10, in a bar of 35 cells at 100 columns.
    expect(lines[2]).toMatch(/lr\s+gpu\s+\[#{18}!{4}>{7}\.{6}\]\s+5\/10\s+1\s+2\s+2\s+1m/);
    expect(view).not.toContain("ev ");
    const all = await ui.press("a", (f) => /ev\s+gpu/.test(f), "the finished sweep");
    expect(all).toMatch(/ev\s+gpu\s+\[#{35}\]\s+4\/4\s+0\s+0\s+0\s+10m/);
    expect(ui.asked).toContain(true);
  });

  it("shows on Enter the jobs of the selected sweep alone, and Esc all jobs again", async () => {
    const ui = dashboard();
    await ui.frameWhere((f) => f.includes("lr.9"), "the jobs");
    await ui.pressUntil("4", (f) => f.includes("PROGRESS"), "the sweeps view");
    const jobs = await ui.press(KEY.enter, (f) => f.includes("sweep lr"), "the sweep's jobs");
    for (const id of ["lr.9", "lr.7", "lr.2-r2", "lr.1"]) expect(jobs).toContain(id);
    expect(jobs).toMatch(/queued\s+lr\.10\s+gpu\s+lr\.py\s+\S+\s+held until job 8/);
    expect(jobs).not.toContain("lrx.1");
    expect(jobs).not.toContain("job-5");
    const again = await ui.press(KEY.esc, (f) => f.includes("job-5"), "every job again");
    expect(again).not.toContain("sweep lr");
  });

  it("lists the sweeps view's keys in the ? overlay, and opens it by :sweeps", async () => {
    const ui = dashboard();
    await ui.frameWhere((f) => f.includes("lr.9"), "the jobs");
    const help = await ui.pressUntil("?", (f) => f.includes("Keys (Esc or ? closes)"), "the help");
    expect(help).toContain("sweeps view: each sweep's progress bar");
    expect(help).toContain("show or hide finished sweeps");
    await ui.press(KEY.esc, (f) => !f.includes("Keys (Esc"), "the list again");
    await ui.press(":", (f) => f.includes(":█"), "the command line");
    for (const c of "sweeps") ui.stdin.write(c);
    await ui.frameWhere((f) => f.includes(":sweeps"), "the typed command");
    await ui.press(KEY.enter, (f) => f.includes("PROGRESS"), "the sweeps view");
  });
});

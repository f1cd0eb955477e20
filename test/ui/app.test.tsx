// The dashboard rendered by ink-testing-library, driven by keys, fed by a stand-in client.
import { join } from "node:path";
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { App } from "../../src/app.tsx";
import { colorWanted } from "../../src/ui/theme.ts";
import { ROOT } from "../helpers/processes.ts";
import { fakeSource, job, JOBS, NOW, type FakeSource } from "./fixture.ts";

const FIXTURE_DIR = join(ROOT, "test", "fixtures", "jobs");
const KEY = { enter: "\r", esc: "\u001B", down: "\u001B[B", up: "\u001B[A", ctrlC: "\u0003" };
const unmounts: (() => void)[] = [];
afterEach(() => {
  for (const unmount of unmounts.splice(0)) unmount();
});

function dashboard(
  source: FakeSource = fakeSource(),
  size = { columns: 80, rows: 24 },
  copied: string[] = [],
) {
  const app = render(
    <App
      source={source}
      url="http://server:8001"
      refreshMs={60_000}
      color={false}
      size={size}
      copy={(text) => copied.push(text)}
    />,
  );
  unmounts.push(app.unmount);
  /** Waits for the frame to satisfy `predicate`, with a deadline. */
  const frameWhere = async (
    predicate: (frame: string) => boolean,
    what: string,
  ): Promise<string> => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const frame = app.lastFrame() ?? "";
      if (predicate(frame)) return frame;
      if (Date.now() > deadline) throw new Error(`no frame with ${what}; last frame:\n${frame}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  /**
   * Presses `keys` until the frame shows `what`: input listeners attach in an effect, so the
   * first presses may fall before they listen. Only for keys that are harmless to repeat.
   */
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
  /** Presses once, then waits. */
  const press = async (keys: string, predicate: (frame: string) => boolean, what: string) => {
    app.stdin.write(keys);
    return frameWhere(predicate, what);
  };
  return { ...app, frameWhere, pressUntil, press };
}

describe("the dashboard", () => {
  it("opens on the jobs list, newest first, with headers, human ages and reasons, in 80x24", async () => {
    const ui = dashboard();
    const frame = await ui.frameWhere((f) => f.includes("job-3"), "the jobs");
    expect(frame).toMatch(/STATE\s+ID\s+GROUP\s+SCRIPT\s+AGE\s+WORKER\/REASON/);
    const lines = frame.split("\n");
    expect(lines.findIndex((l) => l.includes("job-3"))).toBeLessThan(
      lines.findIndex((l) => l.includes("job-1")),
    );
    expect(frame).toContain("every slot of g"); // the REASON, cut at 80 columns
    // The running job's age is since it started, in words a person reads: 30s, not 30000ms.
    expect(lines.find((l) => l.includes("job-1"))).toMatch(/\b30s\b/);
    expect(frame).not.toContain("job-0"); // finished: hidden until toggled
    expect(frame).toContain("row 1 of 3");
    expect(lines.length).toBeLessThanOrEqual(23);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
  });

  it("shows finished jobs on a, and switches to groups and workers by key and by :command", async () => {
    const ui = dashboard();
    await ui.frameWhere((f) => f.includes("job-3"), "the jobs");
    await ui.pressUntil(
      "a",
      (f) => f.includes("job-0") && f.includes("succeeded"),
      "a finished job",
    );
    await ui.pressUntil("1", (f) => f.includes("PENDING"), "the groups view");
    const groups = ui.lastFrame() ?? "";
    expect(groups).toMatch(/gpu\s+1\s+1\/2\s+2\s+1\s+1/);
    await ui.press(":", (f) => f.includes(":█"), "the command line");
    for (const c of "workers") ui.stdin.write(c);
    await ui.frameWhere((f) => f.includes(":workers"), "the typed command");
    const workers = await ui.press(KEY.enter, (f) => f.includes("cpu-b-2"), "the workers view");
    expect(workers).toMatch(/gpu\s+a\s+1\/2/);
  });

  it("opens a job's detail on Enter with its live output, and Esc goes back without quitting", async () => {
    const source = fakeSource(JOBS.filter((j) => j.id === "job-1"));
    const ui = dashboard(source);
    await ui.frameWhere((f) => f.includes("job-1"), "the job");
    const detail = await ui.pressUntil(
      KEY.enter,
      (f) => f.includes("output: following") && f.includes("attempt 1"),
      "the detail, following attempt 1",
    );
    expect(detail).toContain("job job-1  running  train.py  group gpu");
    source.write("hello from the job\n");
    await ui.frameWhere((f) => f.includes("hello from the job"), "the live line");
    await ui.press("f", (f) => f.includes("output: paused"), "follow off");
    const back = await ui.press(KEY.esc, (f) => f.includes("WORKER/REASON"), "the list again");
    expect(back).toContain("job-1");
    ui.stdin.write(KEY.esc);
    await ui.press("2", (f) => f.includes("WORKER/REASON"), "still the list after Esc");
  });

  it("shows an ended job's stored output, from its record", async () => {
    const ended = job("job-9", "failed", {
      stdout: "epoch 1\n",
      stderr: "Traceback: boom\n",
      exitCode: 1,
      finishedAt: NOW - 1_000,
    });
    const ui = dashboard(fakeSource([ended]));
    await ui.frameWhere((f) => f.includes("PENDING"), "the groups (nothing outstanding)");
    await ui.pressUntil("2", (f) => f.includes("no jobs here"), "the jobs view");
    await ui.press("a", (f) => f.includes("job-9"), "the ended job");
    const detail = await ui.press(KEY.enter, (f) => f.includes("stored output"), "its detail");
    expect(detail).toContain("job job-9  failed");
    expect(detail).toContain("exit 1");
    expect(detail).toContain("epoch 1");
    expect(detail).toContain("Traceback: boom");
  });

  it("cancels the selected job after a confirmation that defaults to No", async () => {
    const source = fakeSource();
    const ui = dashboard(source);
    await ui.frameWhere((f) => f.includes("job-3"), "the jobs");
    await ui.pressUntil("c", (f) => f.includes("Cancel job job-3? y/N"), "the confirmation");
    await ui.press(KEY.enter, (f) => f.includes("nothing canceled"), "No, by default");
    expect(source.canceled).toEqual([]);
    await ui.press("c", (f) => f.includes("Cancel job job-3? y/N"), "the confirmation again");
    await ui.press("y", (f) => f.includes("canceled job-3"), "the cancel done");
    expect(source.canceled).toEqual(["job-3"]);
  });

  it("reads keys that arrive together one by one", async () => {
    const ui = dashboard();
    await ui.frameWhere((f) => f.includes("job-3"), "the jobs");
    // The first write may land before the input listener: repeat until it is heard.
    await ui.pressUntil(":workers\r", (f) => f.includes("cpu-b-2"), "the workers view");
    await ui.press(":jobs\rjj\r", (f) => f.includes("job job-1"), "job-1's detail");
  });

  it("fills the screen from the newest 500 jobs first, then lists up to 10,000 on the next refresh", async () => {
    const many = Array.from({ length: 600 }, (_, i) =>
      job(`job-${String(1000 - i)}`, "queued", { submittedAt: NOW - i * 1000 }),
    );
    const source = fakeSource(many);
    const ui = dashboard(source);
    await ui.frameWhere((f) => f.includes("+100 older not loaded"), "the first 500");
    await ui.pressUntil("r", (f) => f.includes("jobs (600)"), "all 600 after a refresh");
    expect(ui.lastFrame()).not.toContain("older not loaded");
    expect(source.limits.slice(0, 2)).toEqual([500, 10_000]);
  });

  it("submits a job from the form: the path completed by Tab, a live group picked, then its detail", async () => {
    const source = fakeSource();
    const ui = dashboard(source);
    await ui.frameWhere((f) => f.includes("job-3"), "the jobs");
    await ui.pressUntil("s", (f) => f.includes("Submit a job"), "the form");
    // Typed with the group field's default: the first live group, cpu.
    expect(ui.lastFrame()).toMatch(/Group\s+cpu/);
    ui.stdin.write(`${FIXTURE_DIR}/sleep`);
    await ui.frameWhere((f) => f.includes("sleep█"), "the typed path");
    await ui.press("\t", (f) => f.includes("sleepy.py█"), "the path completed");
    ui.stdin.write("\t"); // complete: on to the group
    await ui.frameWhere((f) => /> Group\s+cpu█/.test(f), "the group field");
    await ui.press("\u001B[C", (f) => /> Group\s+gpu█/.test(f), "the next live group");
    ui.stdin.write("\t");
    await ui.frameWhere((f) => /> Arguments/.test(f), "the arguments field");
    ui.stdin.write("30");
    await ui.frameWhere((f) => f.includes("30█"), "the typed arguments");
    const detail = await ui.press(KEY.enter, (f) => f.includes("output: following"), "its detail");
    expect(source.submitted).toHaveLength(1);
    expect(source.submitted[0]).toMatchObject({ group: "gpu", args: ["30"], mode: "detach" });
    expect(source.submitted[0]?.script.name).toBe("sleepy.py");
    expect(detail).toContain(`job ${source.submitted[0]?.id}`);
  });

  it("says which field to fix when the form cannot be submitted, and Esc closes it", async () => {
    const ui = dashboard();
    await ui.frameWhere((f) => f.includes("job-3"), "the jobs");
    await ui.pressUntil("s", (f) => f.includes("Submit a job"), "the form");
    ui.stdin.write("/no/such/script.py");
    await ui.frameWhere((f) => f.includes("script.py█"), "the typed path");
    await ui.press(
      KEY.enter,
      (f) => f.includes("Script: cannot read script /no/such/script.py: no such file"),
      "the refusal",
    );
    await ui.press(KEY.esc, (f) => f.includes("WORKER/REASON"), "the list again");
  });

  it("resubmits the selected job as a new one after a y/N, and copies an id with y", async () => {
    const source = fakeSource();
    const copied: string[] = [];
    const ui = dashboard(source, { columns: 80, rows: 24 }, copied);
    await ui.frameWhere((f) => f.includes("job-3"), "the jobs");
    await ui.pressUntil("y", (f) => f.includes("copied job-3"), "the id copied");
    expect(copied.at(-1)).toBe("job-3");
    await ui.press("R", (f) => f.includes("Resubmit job job-3 as a new job? y/N"), "the question");
    await ui.press("n", (f) => f.includes("nothing resubmitted"), "No");
    expect(source.submitted).toEqual([]);
    await ui.press("R", (f) => f.includes("y/N"), "the question again");
    const detail = await ui.press("y", (f) => f.includes("resubmitted job-3 as"), "the new job");
    expect(source.submitted).toHaveLength(1);
    expect(source.submitted[0]?.id).not.toBe("job-3");
    expect(detail).toContain(`job ${source.submitted[0]?.id}`);
  });

  it("lists every key of the keymap in the ? overlay", async () => {
    const ui = dashboard();
    await ui.frameWhere((f) => f.includes("job-3"), "the jobs");
    const help = await ui.pressUntil("?", (f) => f.includes("Keys (Esc or ? closes)"), "the help");
    for (const words of [
      "quit from anywhere",
      "back one level",
      "cancel the marked jobs",
      "filter by group",
      "follow the output",
    ])
      expect(help).toContain(words);
    await ui.press(KEY.esc, (f) => f.includes("WORKER/REASON"), "the list again");
  });

  it("says it is reconnecting, with the age of its data, while the server is away", async () => {
    const source = fakeSource();
    const ui = dashboard(source);
    await ui.frameWhere((f) => f.includes("job-3"), "the jobs");
    source.failing = true;
    const away = await ui.pressUntil("r", (f) => f.includes("reconnecting"), "reconnecting");
    expect(away).toMatch(/data \d+(ms|s) old/);
    expect(away).toContain("job-3");
    source.failing = false;
    await ui.pressUntil("r", (f) => !f.includes("reconnecting"), "recovered");
  });

  it("turns colour off where NO_COLOR is set to anything", () => {
    // Ink's colours cannot be seen here (its output is not a terminal): the choice is.
    expect(colorWanted({ NO_COLOR: "1" })).toBe(false);
    expect(colorWanted({ NO_COLOR: "" })).toBe(true);
    expect(colorWanted({})).toBe(true);
  });
});

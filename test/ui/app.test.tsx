// The dashboard rendered by ink-testing-library, driven by keys, fed a fixed snapshot.
import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { App } from "../../src/app.tsx";
import { SNAPSHOT } from "./snapshot-fixture.ts";

/** Waits for the frame to satisfy `predicate`, with a deadline: input listeners attach in an effect. */
async function frameWhere(
  lastFrame: () => string | undefined,
  predicate: (frame: string) => boolean,
  what: string,
): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const frame = lastFrame() ?? "";
    if (predicate(frame)) return frame;
    if (Date.now() > deadline) throw new Error(`no frame with ${what}; last frame:\n${frame}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("the dashboard", () => {
  it("shows each group with its slots, and the selected group's workers and jobs", async () => {
    const { lastFrame, unmount } = render(
      <App load={() => Promise.resolve(SNAPSHOT)} url="http://server:8001" refreshMs={60_000} />,
    );
    const frame = await frameWhere(
      lastFrame,
      (f) => f.includes("Outstanding jobs"),
      "the jobs panel",
    );
    expect(frame).toContain("gpu 1/2 slots, 2 jobs");
    expect(frame).toContain("routing");
    expect(frame).toContain("job-3");
    unmount();
  });

  it("moves between groups with the arrow keys", async () => {
    const { lastFrame, stdin, unmount } = render(
      <App load={() => Promise.resolve(SNAPSHOT)} url="u" refreshMs={60_000} />,
    );
    await frameWhere(lastFrame, (f) => f.includes("job-3"), "the first group");
    const frame = await (async () => {
      for (let i = 0; i < 100; i++) {
        stdin.write("\u001B[D"); // left: from a100 round to gpu
        const f = lastFrame() ?? "";
        if (f.includes("train.py")) return f;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return lastFrame() ?? "";
    })();
    expect(frame).toContain("train.py");
    expect(frame).toContain("on gpu-a-1");
    unmount();
  });

  it("says when the server cannot be read, and keeps what it last saw", async () => {
    let calls = 0;
    const load = () =>
      calls++ === 0
        ? Promise.resolve(SNAPSHOT)
        : Promise.reject(new Error("cannot reach the server"));
    const { lastFrame, stdin, unmount } = render(<App load={load} url="u" refreshMs={60_000} />);
    await frameWhere(lastFrame, (f) => f.includes("job-3"), "the first snapshot");
    const frame = await (async () => {
      for (let i = 0; i < 100; i++) {
        stdin.write("r");
        const f = lastFrame() ?? "";
        if (f.includes("cannot reach")) return f;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return lastFrame() ?? "";
    })();
    expect(frame).toContain("cannot reach the server");
    expect(frame).toContain("job-3");
    unmount();
  });
});

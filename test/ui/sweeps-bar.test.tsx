// The dashboard's top bar shows each outstanding sweep with a progress bar, read through the
// source's listSweeps (issue 17, item 2).
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { App } from "../../src/app.tsx";
import type { SweepView } from "../../src/orchestration/client/sweep.ts";
import { fakeSource, NOW } from "./fixture.ts";

const unmounts: (() => void)[] = [];
afterEach(() => {
  for (const unmount of unmounts.splice(0)) unmount();
});

const SWEEP: SweepView = {
  record: {
    kind: "modulate.sweep",
    id: "lr",
    group: "gpu",
    count: 10,
    scripts: ["train.py"],
    submittedAt: NOW - 60_000,
  },
  jobs: [],
  progress: { done: 5, failed: 1, running: 2, queued: 2 },
  finished: false,
};

describe("the dashboard's sweeps", () => {
  it("shows each outstanding sweep in the top bar with a progress bar and its counts", async () => {
    const source = { ...fakeSource(), listSweeps: () => Promise.resolve([SWEEP]) };
    const app = render(
      <App
        source={source}
        url="http://server:8001"
        refreshMs={60_000}
        color={false}
        size={{ columns: 120, rows: 24 }}
      />,
    );
    unmounts.push(app.unmount);
    const deadline = Date.now() + 5_000;
    let frame = app.lastFrame() ?? "";
    while (!frame.includes("lr [") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      frame = app.lastFrame() ?? "";
    }
    expect(frame.split("\n")[0]).toContain("lr [#####!>>..] 5/10 1 failed");
  });
});

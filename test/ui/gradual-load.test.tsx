// The dashboard over a source that lists gradually (client/list-gradual.ts): the first load
// shows the rows handed over early, before the listing ends, and the final rows replace them;
// a refresh of rows already shown does not ask for early rows; the workers come with the
// listing, not from a second read.
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { App } from "../../src/app.tsx";
import type { GradualOptions } from "../../src/orchestration/client/list-gradual.ts";
import type { JobList, ListFilter } from "../../src/orchestration/client/list.ts";
import { fakeSource, JOBS, WORKERS } from "./fixture.ts";

const unmounts: (() => void)[] = [];
afterEach(() => {
  for (const unmount of unmounts.splice(0)) unmount();
});

interface HeldListing {
  filter: ListFilter;
  options: GradualOptions | undefined;
  finish(list: JobList): void;
}

/**
 * The fixture's source, listing gradually: each listing says whom it read at once, as the
 * client does, and waits until the test finishes it.
 */
function gradualSource() {
  const source = fakeSource();
  const listings: HeldListing[] = [];
  const asked = { workers: 0 };
  const gradual = Object.assign(source, {
    workers: () => {
      asked.workers += 1;
      return Promise.resolve(WORKERS);
    },
    listGradually: (filter: ListFilter, options?: GradualOptions) => {
      options?.onWorkers?.(WORKERS);
      return new Promise<JobList>((resolve) => listings.push({ filter, options, finish: resolve }));
    },
  });
  return { source: gradual, listings, asked };
}

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("the dashboard over a gradual listing", () => {
  it("shows the early rows of its first load, then the final ones", async () => {
    const { source, listings, asked } = gradualSource();
    const app = render(
      <App
        source={source}
        url="http://server:8001"
        refreshMs={60_000}
        color={false}
        size={{ columns: 120, rows: 30 }}
        copy={() => undefined}
      />,
    );
    unmounts.push(app.unmount);
    const first = await until(() => listings[0], "the first listing");
    expect(first.filter.limit).toBe(500);
    const onRows = first.options?.onRows;
    expect(onRows).toBeDefined();
    const outstanding = JOBS.filter((j) => j.stage !== "succeeded");
    onRows?.({
      jobs: outstanding.map((j) => ({ ...j, reason: j.reason && "early reason" })),
      more: 0,
    });
    await until(
      () => ((app.lastFrame() ?? "").includes("early reason") ? true : undefined),
      "the early rows on screen",
    );
    expect(app.lastFrame()).toContain("job-3");
    first.finish({
      jobs: outstanding.map((j) => ({ ...j, reason: j.reason && "final reason" })),
      more: 0,
    });
    await until(
      () => ((app.lastFrame() ?? "").includes("final reason") ? true : undefined),
      "the final rows on screen",
    );
    expect(app.lastFrame()).not.toContain("early reason");
    // The workers came with the listing: not read a second time.
    expect(asked.workers).toBe(0);

    // A refresh of the same question: no early rows asked for.
    // Pressed until heard: input listeners attach in an effect.
    const second = await until(() => {
      if (!listings[1]) app.stdin.write("r");
      return listings[1];
    }, "a refresh");
    expect(second.filter.limit).toBe(10_000);
    expect(second.options?.onRows).toBeUndefined();
    second.finish({ jobs: outstanding, more: 0 });
  });
});

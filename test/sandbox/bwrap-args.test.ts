import { describe, expect, it } from "vitest";
import { buildBwrapArgs } from "../../src/sandbox/bwrap-args.ts";

const BASE = {
  workDir: "/w/job",
  hiddenPaths: ["/w"],
  network: false,
  devicePaths: [],
  userSwitchInside: false,
};

function pairs(args: string[], flag: string): string[] {
  return args.flatMap((arg, index) => (arg === flag ? [args[index + 1] ?? ""] : []));
}

describe("buildBwrapArgs", () => {
  it("gives a read-only host, a private /tmp and only the job's directory writable", () => {
    const args = buildBwrapArgs(BASE);
    expect(args.slice(0, 3)).toEqual(["--ro-bind", "/", "/"]);
    expect(pairs(args, "--tmpfs")).toEqual(["/tmp", "/w"]);
    expect(pairs(args, "--bind")).toEqual(["/w/job"]);
    // The job's directory is bound after the work root is hidden, so it shows through.
    expect(args.indexOf("--bind")).toBeGreaterThan(args.lastIndexOf("--tmpfs"));
    expect(args.at(-1)).toBe("--");
  });

  it("makes the way down to a job's directory in a disk area passable, before binding it", () => {
    const args = buildBwrapArgs({ ...BASE, workDir: "/w/.disk/0/slot-1/job" });
    expect(pairs(args, "--dir")).toEqual(["/w/.disk", "/w/.disk/0", "/w/.disk/0/slot-1"]);
    expect(args.lastIndexOf("--dir")).toBeLessThan(args.indexOf("--bind"));
    expect(pairs(buildBwrapArgs(BASE), "--dir")).toEqual([]);
  });

  it("isolates pids, drops every capability, dies with its parent, and cuts the network", () => {
    const args = buildBwrapArgs(BASE);
    for (const flag of ["--unshare-pid", "--unshare-net", "--die-with-parent", "--new-session"])
      expect(args).toContain(flag);
    expect(pairs(args, "--cap-drop")).toEqual(["ALL"]);
    expect(pairs(args, "--cap-add")).toEqual([]);
  });

  it("keeps the network when granted, and the user-switch capabilities when a switch follows", () => {
    const args = buildBwrapArgs({ ...BASE, network: true, userSwitchInside: true });
    expect(args).not.toContain("--unshare-net");
    expect(pairs(args, "--cap-add")).toEqual(["CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"]);
  });

  it("binds GPU devices and sizes /tmp when asked", () => {
    const args = buildBwrapArgs({ ...BASE, devicePaths: ["/dev/nvidia0"], tmpSizeBytes: 1024 });
    expect(pairs(args, "--dev-bind-try")).toEqual(["/dev/nvidia0"]);
    expect(args.slice(args.indexOf("--size"), args.indexOf("--size") + 4)).toEqual([
      "--size",
      "1024",
      "--tmpfs",
      "/tmp",
    ]);
  });
});

describe("paths the job keeps seeing", () => {
  it("binds the interpreter read-only after the tmpfs that would hide it", () => {
    const args = buildBwrapArgs({
      workDir: "/srv/work/job-1",
      hiddenPaths: ["/srv/work"],
      readOnlyPaths: ["/tmp/modulate"],
      network: false,
      devicePaths: [],
      userSwitchInside: false,
    });
    const tmp = args.indexOf("/tmp");
    const bound = args.indexOf("--ro-bind-try");
    expect(args.slice(bound, bound + 3)).toEqual([
      "--ro-bind-try",
      "/tmp/modulate",
      "/tmp/modulate",
    ]);
    expect(bound).toBeGreaterThan(tmp);
  });
});

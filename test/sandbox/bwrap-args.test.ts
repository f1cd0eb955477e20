import { describe, expect, it } from "vitest";
import { buildBwrapArgs, type BwrapOptions } from "../../src/sandbox/bwrap-args.ts";
import type { HostView } from "../../src/sandbox/view.ts";

const VIEW: HostView = {
  systemDirs: ["/usr", "/etc", "/opt"],
  systemLinks: [
    { path: "/bin", target: "usr/bin" },
    { path: "/lib64", target: "usr/lib64" },
  ],
  interpreterTrees: ["/root/.pyenv/versions/3.11.7"],
  masked: [
    { path: "/etc/shadow", isDirectory: false, why: "root-only" },
    { path: "/etc/ssl/private", isDirectory: true, why: "root-only" },
    { path: "/opt/app/agent.sock", isDirectory: false, why: "socket" },
  ],
  maskFile: "/srv/modulate/logs/.masked",
  networkFiles: ["/run/systemd/resolve/stub-resolv.conf"],
};

const BASE: BwrapOptions = {
  workDir: "/srv/modulate/jobs/job",
  view: VIEW,
  hiddenPaths: ["/srv/modulate/jobs"],
  network: false,
  devicePaths: [],
  userSwitchInside: false,
};

function pairs(args: readonly string[], flag: string): string[] {
  return args.flatMap((arg, index) => (arg === flag ? [args[index + 1] ?? ""] : []));
}

/** The destinations of `--ro-bind SRC DEST` (and `-try`), in order. */
function boundReadOnly(args: readonly string[]): string[] {
  return args.flatMap((arg, index) =>
    arg === "--ro-bind" || arg === "--ro-bind-try" ? [args[index + 2] ?? ""] : [],
  );
}

/** `--perms MODE --dir PATH` pairs as "PATH MODE". */
function madeDirs(args: readonly string[]): string[] {
  return args.flatMap((arg, index) =>
    arg === "--dir" ? [`${args[index + 1] ?? ""} ${args[index - 1] ?? ""}`] : [],
  );
}

describe("the view a job gets", () => {
  it("is an allow-list: the system dirs read-only and their links, never the host's root", () => {
    const args = buildBwrapArgs(BASE);
    expect(boundReadOnly(args)).toEqual([
      "/usr",
      "/etc",
      "/opt",
      "/etc/shadow",
      "/opt/app/agent.sock",
      "/root/.pyenv/versions/3.11.7",
    ]);
    expect(args.join(" ")).not.toContain("--ro-bind / /");
    expect(args.slice(args.indexOf("--symlink"), args.indexOf("--symlink") + 3)).toEqual([
      "--symlink",
      "usr/bin",
      "/bin",
    ]);
    expect(pairs(args, "--symlink")).toEqual(["usr/bin", "usr/lib64"]);
    // Nothing else of the host: no /root, /home, /run, /var, nor the worker's data dir.
    for (const absent of ["/root", "/home", "/run", "/var", "/srv", "/srv/modulate"])
      expect(boundReadOnly(args)).not.toContain(absent);
    expect(pairs(args, "--bind")).toEqual(["/srv/modulate/jobs/job"]);
  });

  it("covers root-only files with the mode-0 mask file, root-only dirs and sockets too", () => {
    const args = buildBwrapArgs(BASE);
    const masks = args.flatMap((arg, index) =>
      arg === "--ro-bind" && args[index + 1] === VIEW.maskFile ? [args[index + 2]] : [],
    );
    expect(masks).toEqual(["/etc/shadow", "/opt/app/agent.sock"]);
    const privateDir = args.indexOf("/etc/ssl/private");
    expect(args.slice(privateDir - 3, privateDir + 1)).toEqual([
      "--perms",
      "0000",
      "--tmpfs",
      "/etc/ssl/private",
    ]);
    // After /etc itself is bound, or the mask would be covered.
    expect(args.indexOf("/etc/shadow")).toBeGreaterThan(args.indexOf("/etc"));
  });

  it("binds a python under /root by its prefix only, through dirs that cannot be listed", () => {
    const args = buildBwrapArgs(BASE);
    expect(madeDirs(args).slice(0, 3)).toEqual([
      "/root 0111",
      "/root/.pyenv 0111",
      "/root/.pyenv/versions 0111",
    ]);
    expect(args.indexOf("/root/.pyenv/versions")).toBeLessThan(
      args.indexOf("/root/.pyenv/versions/3.11.7"),
    );
  });

  it("gives a private, sticky /tmp and /dev/shm of the job's size", () => {
    const args = buildBwrapArgs({ ...BASE, tmpSizeBytes: 1024 });
    for (const dir of ["/tmp", "/dev/shm"]) {
      const at = args.indexOf(dir);
      expect(args.slice(at - 5, at + 1)).toEqual([
        "--size",
        "1024",
        "--perms",
        "1777",
        "--tmpfs",
        dir,
      ]);
    }
    expect(pairs(args, "--dev")).toEqual(["/dev"]);
    expect(pairs(args, "--proc")).toEqual(["/proc"]);
  });

  it("makes the way down to a work dir outside the view, and hides none that is not in it", () => {
    const args = buildBwrapArgs(BASE);
    // /srv is not in the view: nothing to hide, the job's directory is reached through
    // directories made for it, which show nothing else.
    expect(pairs(args, "--tmpfs")).not.toContain("/srv/modulate/jobs");
    expect(madeDirs(args).slice(3)).toEqual([
      "/srv 0111",
      "/srv/modulate 0111",
      "/srv/modulate/jobs 0111",
    ]);
    expect(args.lastIndexOf("--dir")).toBeLessThan(args.indexOf("--bind"));
  });

  it("hides a work root inside the view, then binds the job's directory in a disk area on top", () => {
    const args = buildBwrapArgs({
      ...BASE,
      workDir: "/opt/modulate/jobs/.disk/0/job",
      hiddenPaths: ["/opt/modulate/jobs", "/home/not-in-view"],
    });
    expect(pairs(args, "--tmpfs")).toContain("/opt/modulate/jobs");
    expect(pairs(args, "--tmpfs")).not.toContain("/home/not-in-view");
    expect(madeDirs(args).slice(3)).toEqual([
      "/opt/modulate/jobs/.disk 0111",
      "/opt/modulate/jobs/.disk/0 0111",
    ]);
    expect(args.indexOf("--bind")).toBeGreaterThan(args.indexOf("/opt/modulate/jobs"));
  });

  it("binds resolv.conf's target outside the view only for a job granted the network", () => {
    const file = "/run/systemd/resolve/stub-resolv.conf";
    expect(boundReadOnly(buildBwrapArgs(BASE))).not.toContain(file);
    const args = buildBwrapArgs({ ...BASE, network: true });
    expect(boundReadOnly(args)).toContain(file);
    expect(madeDirs(args)).toContain("/run/systemd/resolve 0111");
  });

  it("shows sysfs's hardware tree, and the devices, only to a job with GPUs", () => {
    expect(buildBwrapArgs(BASE).some((arg) => arg.startsWith("/sys"))).toBe(false);
    const withGpu = buildBwrapArgs({ ...BASE, devicePaths: ["/dev/nvidia0"] });
    expect(pairs(withGpu, "--dev-bind-try")).toEqual(["/dev/nvidia0"]);
    expect(boundReadOnly(withGpu)).toEqual(
      expect.arrayContaining(["/sys/bus", "/sys/devices", "/sys/class"]),
    );
    expect(boundReadOnly(withGpu)).not.toContain("/sys");
    expect(boundReadOnly(withGpu).some((dir) => dir.startsWith("/sys/kernel"))).toBe(false);
  });

  it("binds an interpreter the view does not show, and only that", () => {
    const args = buildBwrapArgs({
      ...BASE,
      readOnlyPaths: [
        "/usr/bin/python3",
        "/bin/bash",
        "/tmp/modulate",
        "/root/.pyenv/versions/3.11.7/bin/python3.11",
      ],
    });
    const bound = boundReadOnly(args);
    expect(bound).toContain("/tmp/modulate");
    for (const shown of [
      "/usr/bin/python3",
      "/bin/bash",
      "/root/.pyenv/versions/3.11.7/bin/python3.11",
    ])
      expect(bound).not.toContain(shown);
    expect(args.indexOf("/tmp/modulate")).toBeGreaterThan(args.indexOf("/tmp"));
  });
});

describe("the job's namespaces and capabilities", () => {
  it("isolates pids, drops every capability, dies with its parent, and cuts the network", () => {
    const args = buildBwrapArgs(BASE);
    for (const flag of ["--unshare-pid", "--unshare-net", "--die-with-parent", "--new-session"])
      expect(args).toContain(flag);
    expect(pairs(args, "--cap-drop")).toEqual(["ALL"]);
    expect(pairs(args, "--cap-add")).toEqual([]);
    expect(args.at(-1)).toBe("--");
  });

  it("keeps the network when granted, and the user-switch capabilities when a switch follows", () => {
    const args = buildBwrapArgs({ ...BASE, network: true, userSwitchInside: true });
    expect(args).not.toContain("--unshare-net");
    expect(pairs(args, "--cap-add")).toEqual(["CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"]);
  });
});

// The one esbuild configuration: `dist/modulate.mjs` for running from a checkout (split into
// chunks loaded on demand) and `release/build/modulate.mjs`, one minified file, for the single
// executable. Both inline the packages, and both are ESM because Ink's dependencies use
// top-level await.
import { build, type BuildOptions, type Plugin } from "esbuild";
import { execFileSync } from "node:child_process";
import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * Node's built-in modules, taken with `process.getBuiltinModule` instead of ESM imports.
 * An ESM import of a built-in reads every export of it at once: node:http's WebSocket and
 * EventSource getters then load undici (about 30 ms of a command's start), and esbuild hoists
 * the imports of everything it inlines to the top of the single file, so `--version` would
 * pay for node:http, node:crypto and node:child_process. As CommonJS modules the built-ins are
 * evaluated where they are first needed, and only the properties used are read.
 */
const builtinsOnDemand: Plugin = {
  name: "builtins-on-demand",
  setup(build) {
    const bare = new Set(builtinModules.filter((name) => !name.startsWith("_")));
    build.onResolve({ filter: /^[a-z_:/0-9]+$/ }, (args) => {
      const name = args.path.startsWith("node:") ? args.path.slice("node:".length) : args.path;
      if (!args.path.startsWith("node:") && !bare.has(name)) return undefined;
      return { path: `node:${name}`, namespace: "builtin" };
    });
    build.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

/** string-width behind release/stubs/string-width.ts, which loads the real one on demand. */
const stringWidthOnDemand: Plugin = {
  name: "string-width-on-demand",
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, (args) =>
      (args.pluginData as { eager?: boolean } | undefined)?.eager
        ? undefined
        : { path: `${root}release/stubs/string-width.ts` },
    );
    build.onResolve({ filter: /^string-width-eager$/ }, async () => {
      const found = await build.resolve("string-width", {
        kind: "require-call",
        resolveDir: root,
        pluginData: { eager: true },
      });
      return { path: found.path };
    });
  },
};

/**
 * The files main.ts loads for a plain `submit` (src/quick-submit.ts) and a plain `ls`
 * (src/quick-ls.ts) are each built apart, as one file (dist/submit.mjs, dist/ls.mjs): split like
 * the rest, the submit lane came in some 25 chunks, and loading each of them is a module's
 * resolve, read, compile-cache look-up and link, about half of what the quick lane took to load
 * (issue 17). The single executable is one file anyway and keeps them inline.
 */
const QUICK_LANES: ReadonlyMap<string, string> = new Map([
  ["./quick-submit.ts", "submit.mjs"],
  ["./quick-ls.ts", "ls.mjs"],
]);

const quickLanesApart: Plugin = {
  name: "quick-lanes-apart",
  setup(build) {
    build.onResolve({ filter: /^\.\/quick-[a-z]+\.ts$/ }, (args) => {
      const file = QUICK_LANES.get(args.path);
      return file !== undefined && args.importer.endsWith("src/main.ts")
        ? { path: `./${file}`, external: true }
        : undefined;
    });
  },
};

export type BundleKind = "dev" | "release";

/** What every build shares; `bundleOptions` adds where it goes and how it splits. */
function commonOptions(kind: BundleKind): BuildOptions {
  // Packages are inlined in both builds: resolving and loading dozens of files from
  // node_modules cost a checkout's every command tens of milliseconds at start-up.
  return {
    absWorkingDir: root,
    entryPoints: ["src/main.ts"],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node26",
    sourcemap: kind === "dev" ? "linked" : false,
    logLevel: "warning",
    legalComments: "none",
    // Ink imports react-devtools-core only when DEV is set; a stub keeps it out of the file.
    alias: { "react-devtools-core": "./release/stubs/react-devtools-core.ts" },
    plugins: [builtinsOnDemand, stringWidthOnDemand],
    // CommonJS packages inside an ESM bundle call require(); give them one.
    banner: {
      js: 'import { createRequire as __modulateCreateRequire } from "node:module"; const require = __modulateCreateRequire(import.meta.url);',
    },
  };
}

/** dist/<file>: a quick lane (src/quick-*.ts) and all it loads, in one file, beside the chunks. */
function quickLaneOptions(source: string, file: string): BuildOptions {
  return {
    ...commonOptions("dev"),
    entryPoints: [`src/${source.slice("./".length)}`],
    outfile: `dist/${file}`,
  };
}

export function bundleOptions(kind: BundleKind): BuildOptions {
  const common = commonOptions(kind);
  if (kind === "dev") {
    // Split at every import(): a command loads only the code it uses, since a single ESM
    // file would evaluate every module's imports at start-up.
    return {
      ...common,
      plugins: [...(common.plugins ?? []), quickLanesApart],
      outdir: "dist",
      splitting: true,
      entryNames: "modulate",
      chunkNames: "chunks/[name]-[hash]",
      outExtension: { ".js": ".mjs" },
    };
  }
  return {
    ...common,
    outfile: "release/build/modulate.mjs",
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: true,
    keepNames: true,
    define: { "process.env.NODE_ENV": '"production"' },
  };
}

/**
 * The server's engine thread (src/server/engine-thread.ts) as one CommonJS text. The main bundle
 * carries it as a string and starts the thread with `eval`, so that the thread runs the same
 * from dist/ and from the single executable, which has no file to point a Worker at.
 */
async function engineThreadSource(kind: BundleKind): Promise<string> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["src/server/engine-thread.ts"],
    bundle: true,
    write: false,
    platform: "node",
    format: "cjs",
    target: "node26",
    logLevel: "warning",
    legalComments: "none",
    plugins: [builtinsOnDemand],
    ...(kind === "release" ? { minifyWhitespace: true, minifySyntax: true } : {}),
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error("esbuild wrote no engine thread");
  return output.text;
}

/**
 * The commit the build is made of, for `modulate --version`: MODULATE_COMMIT when set (a build
 * from a source archive), else git's HEAD, with "-dirty" where tracked files differ from it;
 * "unknown" outside a git checkout.
 */
export function buildCommit(): string {
  const given = process.env["MODULATE_COMMIT"];
  if (given !== undefined && given !== "") return given;
  const git = (args: string[]): string =>
    execFileSync("git", args, { cwd: root, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  try {
    const head = git(["rev-parse", "--short=12", "HEAD"]);
    return git(["status", "--porcelain", "--untracked-files=no"]) === "" ? head : `${head}-dirty`;
  } catch {
    return "unknown";
  }
}

export async function bundle(kind: BundleKind): Promise<void> {
  const options = bundleOptions(kind);
  const engineThread = JSON.stringify(await engineThreadSource(kind));
  const define = {
    ...options.define,
    MODULATE_ENGINE_THREAD_SOURCE: engineThread,
    MODULATE_COMMIT: JSON.stringify(buildCommit()),
  };
  await build({ ...options, define });
  if (kind === "dev") {
    // Its own copy of what it shares with the chunks: a process runs either it or them (a
    // line it does not read goes to cli.ts before it has done anything), never both at once.
    for (const [source, file] of QUICK_LANES) {
      const quick = quickLaneOptions(source, file);
      await build({ ...quick, define: { ...quick.define, ...define } });
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const kind = process.argv[2] === "release" ? "release" : "dev";
  await bundle(kind);
}

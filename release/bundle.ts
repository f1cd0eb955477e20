// The one esbuild configuration: `dist/modulate.mjs` for running from a checkout (packages
// stay in node_modules) and `release/build/modulate.mjs`, everything inlined, for the single
// executable. Both are ESM because Ink's dependencies use top-level await.
import { build, type BuildOptions } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

export type BundleKind = "dev" | "release";

export function bundleOptions(kind: BundleKind): BuildOptions {
  const common: BuildOptions = {
    absWorkingDir: root,
    entryPoints: ["src/main.ts"],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node26",
    sourcemap: kind === "dev" ? "linked" : false,
    logLevel: "warning",
    legalComments: "none",
  };
  if (kind === "dev") {
    // Split at every import(): a command loads only the packages it uses, since a single ESM
    // file would hoist every package import to its top and load them all at start-up.
    return {
      ...common,
      outdir: "dist",
      splitting: true,
      entryNames: "modulate",
      chunkNames: "chunks/[name]-[hash]",
      outExtension: { ".js": ".mjs" },
      packages: "external",
    };
  }
  return {
    ...common,
    outfile: "release/build/modulate.mjs",
    minifyWhitespace: true,
    minifySyntax: true,
    // Ink imports react-devtools-core only when DEV is set; a stub keeps it out of the file.
    alias: { "react-devtools-core": "./release/stubs/react-devtools-core.ts" },
    define: { "process.env.NODE_ENV": '"production"' },
    // CommonJS packages inside an ESM bundle call require(); give them one.
    banner: {
      js: 'import { createRequire as __modulateCreateRequire } from "node:module"; const require = __modulateCreateRequire(import.meta.url);',
    },
  };
}

export async function bundle(kind: BundleKind): Promise<void> {
  await build(bundleOptions(kind));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const kind = process.argv[2] === "release" ? "release" : "dev";
  await bundle(kind);
}

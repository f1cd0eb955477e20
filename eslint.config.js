// One lint configuration for the whole tree; `npm run lint` allows zero warnings.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Who may import whom (../shared/design.md, "Arrows"). Each folder gets one rule entry, since a
// later entry for the same rule replaces an earlier one for the files both match.
const SDK_VALUES = {
  name: "@resonatehq/sdk",
  allowTypeImports: true,
  // A value from the SDK loads all of it (and cron-parser): half a megabyte that every
  // `modulate submit` would compile. Only the SDK's own hosts, routers and workers, take it.
  message: "values from the SDK load all of it: use them only in router, worker or sdk-network",
};
const NO_SDK = {
  name: "@resonatehq/sdk",
  message: "the embedded server and the sandbox never load the SDK: they speak no Resonate client",
};
const NO_UI = ["ink", "react"].map((name) => ({
  name,
  message: "only the dashboard (src/ui, src/app.tsx) renders: other parts stay lean at start-up",
}));
const SDK_HOSTS = [
  "src/orchestration/router.ts",
  "src/orchestration/worker.ts",
  "src/orchestration/wire/sdk-network.ts",
];

/** Folders nest this deep below src/<part>/ at most; each depth gets its own rule entry. */
const MAX_DEPTH = 3;

/**
 * One rule entry: `forbidden` is [regex, why, allowTypeImports?] over relative import paths,
 * where `UP` stands for the run of `../` that climbs from a file at `depth` (0: directly in
 * src/<part>/) to src/.
 */
function entry(files, depth, forbidden, paths, options = {}) {
  return {
    files,
    ...options,
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths,
          patterns: forbidden.map(([regex, message, allowTypeImports]) => ({
            regex: regex.replaceAll("UP", `(?:\\.\\./){${depth + 1}}`),
            message,
            ...(allowTypeImports ? { allowTypeImports } : {}),
          })),
        },
      ],
    },
  };
}

/** The entries for one part of src/ at every depth (`part`: "server", or "*.ts" at src/'s top). */
function arrow(part, forbidden, paths, options = {}) {
  if (part.includes("*")) return [entry([`src/${part}`], -1, forbidden, paths, options)];
  return [...Array(MAX_DEPTH).keys()].map((depth) => {
    const folder = `src/${part}/${"*/".repeat(depth)}`;
    return entry([`${folder}*.ts`, `${folder}*.tsx`], depth, forbidden, paths, options);
  });
}

function importArrows() {
  const noMode = [
    "(^|/)modes/",
    "no file imports a mode: share the code through src/orchestration or src/common",
  ];
  const orchestrationArrows = [
    [
      "^UP(server|ui|modes)/|^UP(cli|app|main)(\\.tsx?)?$",
      "src/orchestration speaks Resonate for every part and works against any Resonate server: it never imports the embedded server, the UI or a mode",
    ],
  ];
  const orchestrationLayers = [
    [
      "src/orchestration/wire",
      [
        "^\\.\\./(?!\\.\\./)",
        "src/orchestration/wire turns bytes into typed answers and knows nothing of jobs: it imports only its own files, src/common and the SDK",
      ],
    ],
    [
      "src/orchestration/jobs",
      [
        "^\\.\\./(?!wire/|\\.\\./)",
        "src/orchestration/jobs holds the job rules and records, pure: it imports its own files, the wire, src/sandbox's pure rules and src/common, never a running part",
      ],
    ],
  ];
  return [
    arrow(
      "common",
      [["^UP", "src/common is the leaf every part imports: it imports nothing of ours"]],
      [NO_SDK, ...NO_UI],
    ),
    arrow(
      "server",
      [
        [
          "^UP(?!common/)",
          "src/server imports only its own files and src/common: it is the Resonate server, not a client of modulate",
        ],
      ],
      [NO_SDK, ...NO_UI],
    ),
    arrow(
      "sandbox",
      [
        [
          "^UP(?!common/)",
          "src/sandbox imports only its own files and src/common: it runs a plan and reports, knowing nothing of Resonate or jobs",
        ],
      ],
      [NO_SDK, ...NO_UI],
    ),
    arrow("orchestration", orchestrationArrows, [SDK_VALUES, ...NO_UI], { ignores: SDK_HOSTS }),
    // Layers inside orchestration: the wire knows nothing of jobs; the job rules are pure and
    // never reach for a running part (client, router, worker).
    ...orchestrationLayers.map(([folder, rule]) =>
      entry([`${folder}/*.ts`], 1, [...orchestrationArrows, rule], [SDK_VALUES, ...NO_UI], {
        ignores: SDK_HOSTS,
      }),
    ),
    ...SDK_HOSTS.map((file) => {
      const layer = orchestrationLayers.find(([folder]) => file.startsWith(`${folder}/`));
      return layer
        ? entry([file], 1, [...orchestrationArrows, layer[1]], NO_UI)
        : entry([file], 0, orchestrationArrows, NO_UI);
    }),
    arrow(
      "ui",
      [
        [
          "^UP(server|sandbox)/",
          "the dashboard reads data through src/orchestration, never the server or the sandbox",
        ],
        noMode,
      ],
      [SDK_VALUES],
    ),
    arrow(
      "modes",
      [
        [
          "^UP(ui/|app(\\.tsx)?$)",
          "a mode loads the dashboard only with import(), so commands without it start lean",
          true,
        ],
      ],
      [SDK_VALUES, ...NO_UI],
    ),
    arrow("*.ts", [], [SDK_VALUES]),
    arrow("*.tsx", [], [SDK_VALUES]),
  ].flat();
}

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "release/build/", "bench/results/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      // A promise returned un-awaited from a try with a finally lets the finally run first:
      // `get SWEEP --wait` closed its client while the sweep was still being read.
      "@typescript-eslint/return-await": ["error", "in-try-catch"],
    },
  },
  ...importArrows(),
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs", "bin/modulate"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      // Node's globals, for the shim and the fixture scripts that tests run as jobs.
      globals: {
        process: "readonly",
        URL: "readonly",
        console: "readonly",
        require: "readonly",
        module: "writable",
        setTimeout: "readonly",
        Buffer: "readonly",
        __filename: "readonly",
      },
    },
  },
  {
    // CommonJS fixtures exist to prove CommonJS jobs load: require() is their point.
    files: ["**/*.cjs"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);

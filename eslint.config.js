// One lint configuration for the whole tree; `npm run lint` allows zero warnings.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
    },
  },
  {
    // A value from the SDK loads all of it (and cron-parser): half a megabyte that every
    // `modulate submit` would compile. Only the SDK's own hosts, routers and workers, take it.
    files: ["src/**/*.ts", "src/**/*.tsx"],
    ignores: [
      "src/orchestration/router.ts",
      "src/orchestration/worker.ts",
      "src/orchestration/sdk-network.ts",
    ],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "@resonatehq/sdk",
              allowTypeImports: true,
              message:
                "values from the SDK load all of it: use them only in router, worker or sdk-network",
            },
          ],
        },
      ],
    },
  },
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

import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { kilnRules } from "./scripts/eslint-kiln-rules.mjs";

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "**/.kiln/**",
      "node_modules/**",
      "coverage/**",
      "test/fixtures/**",
      "examples/**/node_modules/**",
      "src/runtime/workers/python/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        URL: "readonly",
        AbortController: "readonly",
        AbortSignal: "readonly",
        fetch: "readonly",
        TextEncoder: "readonly",
        TextDecoder: "readonly",
        setImmediate: "readonly",
        queueMicrotask: "readonly",
        structuredClone: "readonly",
        performance: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // The layout of docs/architecture.md, checked (rules in scripts/eslint-kiln-rules.mjs).
    files: ["src/**/*.ts"],
    plugins: { kiln: kilnRules },
    rules: {
      "kiln/layers": "error",
      "kiln/unused-exports": "error",
    },
  },
);

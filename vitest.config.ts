import { defineConfig } from "vitest/config";

// Two projects: `unit` needs nothing but Node; `integration` needs the Docker engine, the local
// registry and the offline base images that scripts/test-env.sh provides.
export const config = defineConfig({
  test: {
    // Durations of every file and test, and which are slow: test-results/durations.json.
    reporters: ["default", "./test/helpers/durations-reporter.ts"],
    tags: [
      {
        name: "slow",
        description: "a unit test over 5 s (spawns compilers or workers): --tags-filter='!slow' skips them",
      },
    ],
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/integration/**", "**/node_modules/**", "test/fixtures/**"],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          // Fails the run when a test leaves a kiln.test=1 container behind (see docs/testing.md).
          globalSetup: ["test/helpers/global-setup.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // Docker builds share one engine and two cores: run integration files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});

export default config;

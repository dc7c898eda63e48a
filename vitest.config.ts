import path from "node:path";
import { defineConfig } from "vitest/config";

// Two projects: `unit` (pure logic, beside the code, no I/O) and `integration` (*.int.test.ts, against a real
// PostgreSQL provisioned by test/global-setup.ts). Playwright's e2e/ is separate (playwright.config.ts).
const shared = {
  resolve: {
    alias: {
      "@": path.resolve(import.meta.dirname),
      // `server-only` throws outside React's server build; domain modules are server code, and so are these tests.
      "server-only": path.resolve(import.meta.dirname, "test/server-only-shim.ts"),
    },
  },
};

export default defineConfig({
  test: {
    projects: [
      {
        ...shared,
        test: {
          name: "unit",
          include: ["lib/**/*.test.ts", "scripts/**/*.test.ts", "components/**/*.test.ts", "agent/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "node_modules/**"],
          environment: "node",
        },
      },
      {
        ...shared,
        test: {
          name: "integration",
          include: ["**/*.int.test.ts"],
          exclude: ["node_modules/**", ".next/**", "agent/dist/**"],
          environment: "node",
          globalSetup: ["test/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});

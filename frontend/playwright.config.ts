import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";

/**
 * End-to-end tests against the real backend: `rivulet serve` with its own embedded PostgreSQL in a
 * fresh temporary RIVULET_HOME, serving the built app (`npm run build` first) from frontend/dist.
 *
 * The config is evaluated again in every worker process, so the port and home directory chosen here
 * are handed down through the environment instead of being chosen twice.
 */
const DEFAULT_PORT = 8765;

/** `preferred` if it is free on 127.0.0.1, otherwise any free port. */
function pickPort(preferred: number): number {
  const probe = `
    const net = require("node:net");
    const listen = (port) => {
      const server = net.createServer();
      server.once("error", () => (port === 0 ? process.exit(1) : listen(0)));
      server.listen(port, "127.0.0.1", () => {
        process.stdout.write(String(server.address().port));
        server.close();
      });
    };
    listen(${preferred});`;
  return Number(execFileSync(process.execPath, ["-e", probe], { encoding: "utf8" }));
}

if (!process.env.RIVULET_E2E_PORT) {
  process.env.RIVULET_E2E_PORT = String(pickPort(DEFAULT_PORT));
}
if (!process.env.RIVULET_E2E_HOME) {
  const home = mkdtempSync(path.join(tmpdir(), "rivulet-e2e-"));
  process.env.RIVULET_E2E_HOME = home;
  // Only the process that created the home removes it, after the web server has been stopped.
  if (!process.env.RIVULET_E2E_KEEP_HOME) {
    process.on("exit", () => rmSync(home, { recursive: true, force: true }));
  }
}

const port = Number(process.env.RIVULET_E2E_PORT);
const baseURL = `http://127.0.0.1:${port}`;

/**
 * Auth: the server's administrator password is fixed for the run; the `setup` project logs in once
 * through the login page and saves the session cookie to STORAGE_STATE, and every `chromium` test
 * starts from it (logged in). A test that needs to be logged out uses
 * `test.use({ storageState: { cookies: [], origins: [] } })`.
 */
export const E2E_ADMIN_USER = "admin";
export const E2E_ADMIN_PASSWORD = process.env.RIVULET_E2E_ADMIN_PASSWORD ?? "e2e-admin-password";
export const STORAGE_STATE = path.resolve(import.meta.dirname, "test-results/.auth/admin.json");

export default defineConfig({
  testDir: "./e2e",
  globalSetup: "./e2e/global-setup.ts",
  fullyParallel: false,
  workers: 1,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 30_000,
  reporter: "list",
  outputDir: "test-results",
  use: {
    baseURL,
    headless: true,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    viewport: { width: 1280, height: 800 },
    colorScheme: "light",
  },
  projects: [
    {
      name: "setup",
      testMatch: /.*\.setup\.ts/,
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: "/usr/bin/chromium",
          args: ["--headless", "--no-sandbox", "--disable-gpu"],
        },
      },
    },
    {
      name: "chromium",
      dependencies: ["setup"],
      use: {
        ...devices["Desktop Chrome"],
        storageState: STORAGE_STATE,
        viewport: { width: 1280, height: 800 },
        headless: true,
        launchOptions: {
          executablePath: "/usr/bin/chromium",
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-quic",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
          ],
        },
      },
    },
  ],
  webServer: {
    command: `../.venv/bin/rivulet serve --host 127.0.0.1 --port ${port}`,
    env: {
      RIVULET_HOME: process.env.RIVULET_E2E_HOME ?? "",
      RIVULET_ADMIN_USER: E2E_ADMIN_USER,
      RIVULET_ADMIN_PASSWORD: E2E_ADMIN_PASSWORD,
    },
    url: `${baseURL}/api/health`,
    timeout: 120_000,
    reuseExistingServer: false,
    // SIGTERM lets `rivulet serve` stop its embedded PostgreSQL before the home directory goes.
    gracefulShutdown: { signal: "SIGTERM", timeout: 20_000 },
    stdout: "ignore",
    stderr: "pipe",
  },
});

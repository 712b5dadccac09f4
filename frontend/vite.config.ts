import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

/** Where `npm run dev` forwards API, WebSocket and published-endpoint traffic. */
const backend = process.env.RIVULET_BACKEND_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
  },
  server: {
    // The editor imports the backend's exported type rules from ../schemas/types.json.
    fs: { allow: [".."] },
    // Keys starting with "^" are regular expressions: "/f" alone would also swallow "/flows".
    proxy: {
      "^/api(/|$)": { target: backend, ws: true },
      "^/f/": { target: backend },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["./src/test/setup.ts"],
    restoreMocks: true,
    unstubGlobals: true,
  },
});

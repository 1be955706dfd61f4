import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Built into the Python package: `web/routes/dashboard.py` serves index.html for every
// page path and the hashed files under /assets/ with a one-year immutable cache.
export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    outDir: "../src/postmetric/static/dashboard",
    emptyOutDir: true,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 600,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8000", "/js": "http://127.0.0.1:8000" } },
  test: { environment: "node", include: ["src/**/*.test.{ts,tsx}"] },
});

import { defineConfig } from 'vitest/config';

// The sandbox tests spawn `node bin/tsvisor.js run -- ...` as child processes, and the native
// addon must never be loaded inside a worker thread (napi addons crash there): forks only.
// At most two test files run at once (the machines have two cores, and every sandbox run is a
// Node process plus a ptrace stub). The ptrace platform is slow, so timeouts are generous.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 10_000,
  },
});

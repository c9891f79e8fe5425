import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // tfjs backends and WASM codecs are process-global; forks keep tests isolated.
    pool: 'forks',
  },
});

import { defineConfig } from 'vitest/config';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // tfjs backends and WASM codecs are process-global; forks keep tests isolated.
    pool: 'forks',
    // Plan verdicts (src/fast/verdict-cache.ts) go to a scratch folder, not the user's ~/.cache.
    env: { CTWINDOW_CACHE_DIR: join(tmpdir(), 'ctwindow-test-cache') },
  },
});

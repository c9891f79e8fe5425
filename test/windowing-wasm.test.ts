/** The wasm backend gives the cpu backend's values (within float32 rounding) for every strategy. */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/index.js';
import { applyWindow, applyWindowReference, compileWindow, STRATEGIES } from '../src/windowing/index.js';

describe('windowing on wasm', () => {
  it('applyWindow and applyWindowReference on wasm match cpu within 1e-5 for every strategy', async () => {
    const H = 24;
    const W = 31;
    const data = new Float32Array(2 * H * W).map((_, i) => Math.round(Math.sin(i * 12.9898) * 43758.5453 % 1 * 2000) - 600);
    const meta = { windowCenter: [40], windowWidth: [400], slope: 1, intercept: -1024 };
    const run = (fn: typeof applyWindow) =>
      STRATEGIES.map((strategy) => tf.tidy(() => Array.from(fn(compileWindow({ strategy }), tf.tensor3d(data, [2, H, W]), [meta, meta]).dataSync())));
    await initBackend('cpu');
    const cpu = run(applyWindowReference);
    await initBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    for (const fn of [applyWindow, applyWindowReference]) {
      const got = run(fn);
      STRATEGIES.forEach((s, k) => {
        let bad = 0;
        got[k].forEach((v, i) => {
          if (!(Math.abs(v - cpu[k][i]) <= 1e-5)) bad++;
        });
        // gradient thresholds (g > floor, g ≤ 0.75) may flip on a last-bit difference
        expect(bad / got[k].length, `${s} (${fn.name})`).toBeLessThanOrEqual(s.includes('gradient') ? 0.005 : 0);
      });
    }
  });
});

/**
 * `--param key=value` options of the CLI → a `window:` block. Values are YAML (so numbers,
 * lists and maps work: `--param windows='[{center: 40, width: 80}]'`, `--param order=[2,1,0]`).
 * `repeat` and `fallback` go to the block itself, every other key to `params`.
 *
 * @example windowConfigFromCli('lung', ['windows=[{center: 50, width: 400}]', 'repeat=false'])
 *   // { strategy: 'lung', params: { windows: [{ center: 50, width: 400 }] }, repeat: false }
 */
import { parse } from 'yaml';
import type { WindowConfigInput } from './config.js';

const TOP_LEVEL = new Set(['repeat', 'fallback']);

export function windowConfigFromCli(strategy: string, params: string[] = []): WindowConfigInput {
  const cfg: Record<string, unknown> = { strategy };
  const p: Record<string, unknown> = {};
  for (const kv of params) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`--param: expected key=value, got '${kv}'`);
    const key = kv.slice(0, eq).trim();
    let value: unknown;
    try {
      value = parse(kv.slice(eq + 1));
    } catch (e) {
      throw new Error(`--param ${key}: value is not valid YAML (${(e as Error).message.split('\n')[0]})`);
    }
    if (TOP_LEVEL.has(key)) cfg[key] = value;
    else p[key] = value;
  }
  if (Object.keys(p).length) cfg.params = p;
  return cfg as WindowConfigInput;
}

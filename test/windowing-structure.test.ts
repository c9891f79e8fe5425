/**
 * The windowing engine's shape: no import cycle in src/windowing/ or src/fast/ (each module
 * can be loaded, read and tested on its own), and every registered primitive lives in its own
 * file of src/windowing/primitives/ with its three forms.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { MAPS, TERMS } from '../src/windowing/index.js';
import { REPO } from './helpers/shared.js';

/** The relative imports (runtime and type) of every .ts file below `root`, as a graph. */
function importGraph(root: string): Map<string, string[]> {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(resolve(p));
    }
  };
  walk(root);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const deps = [...readFileSync(f, 'utf8').matchAll(/(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)]
      .map((m) => resolve(dirname(f), m[1].replace(/\.js$/, '.ts')))
      .filter((d) => files.includes(d));
    graph.set(f, deps);
  }
  return graph;
}

function cycles(graph: Map<string, string[]>, root: string): string[] {
  const state = new Map<string, number>();
  const found: string[] = [];
  const visit = (n: string, stack: string[]) => {
    state.set(n, 1);
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === 1) found.push([...stack.slice(stack.indexOf(d)), d].map((x) => relative(root, x)).join(' → '));
      else if (!state.get(d)) visit(d, stack);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const f of graph.keys()) if (!state.get(f)) visit(f, []);
  return found;
}

describe('windowing engine structure', () => {
  for (const dir of ['src/windowing', 'src/fast']) {
    it(`no import cycle in ${dir}/`, () => {
      const root = join(REPO, dir);
      const graph = importGraph(root);
      expect(graph.size).toBeGreaterThan(5);
      expect(cycles(graph, root)).toEqual([]);
    });
  }

  it('every registered primitive is one file of primitives/ with a tfjs, a table and a WGSL form', () => {
    const files = new Set(readdirSync(join(REPO, 'src/windowing/primitives')));
    for (const [kind, p] of [...Object.entries(TERMS), ...Object.entries(MAPS)]) {
      expect(files.has(`${kind}.ts`), `primitives/${kind}.ts`).toBe(true);
      expect(typeof p.tfjs, kind).toBe('function');
      expect(typeof p.table, kind).toBe('function');
      expect(typeof p.wgsl, kind).toBe('function');
    }
  });
});

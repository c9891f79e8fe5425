/**
 * Issue 10: `ctwindow window <series folder> --context -1,0,1 --strategy <s> --out <dir>` (built CLI).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeContextVolume, type ContextVolume } from '../src/context/fixture.js';
import { decodeNpy } from '../src/util/npy.js';
import { ctwindow } from './helpers/shared.js';
import { tempDir } from './helpers/pipeline.js';

let vol: ContextVolume;
let root: string;

beforeAll(async () => {
  root = await tempDir('ctw-ctxcli-');
  vol = await writeContextVolume(join(root, 'v'), { series: [{ slices: 5 }], rows: 16, cols: 16, seed: 12 });
});

describe('ctwindow window --context', () => {
  it('a series folder → one .npy per centre slice [H,W,3] and context.json in anatomical order', () => {
    const s = vol.series[0];
    const out = join(root, 'out');
    const r = ctwindow(['window', join(vol.dicomRoot, s.study, s.series), '--context', '-1,0,1', '--strategy', 'lung', '--param', 'windows=[{center: 100, width: 700}]', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).filter((f) => f.endsWith('.npy')).sort()).toEqual(s.sorted.map((x) => `${x.sop}.npy`).sort());
    const npy = decodeNpy(readFileSync(join(out, `${s.sorted[2].sop}.npy`)));
    expect(npy.shape).toEqual([16, 16, 3]);
    const meta = JSON.parse(readFileSync(join(out, 'context.json'), 'utf8'));
    expect(meta.channels).toEqual(['lung@-1', 'lung@0', 'lung@+1']);
    expect(meta.series[0].centres.map((c: { sop: string }) => c.sop)).toEqual(s.sorted.map((x) => x.sop));
    expect(meta.series[0].centres[2].neighbours).toEqual([s.sorted[1].sop, s.sorted[2].sop, s.sorted[3].sop]);
  });

  it('bad offsets and a bad edge rule are named', () => {
    const s = vol.series[0];
    const dir = join(vol.dicomRoot, s.study, s.series);
    const bad = ctwindow(['window', dir, '--context', '-1,x', '--strategy', 'lung', '--out', join(root, 'bad')]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--context: expected comma-separated numbers/);
    const edge = ctwindow(['window', dir, '--context', '-1,0,1', '--edge', 'mirror', '--strategy', 'lung', '--out', join(root, 'bad2')]);
    expect(edge.status).not.toBe(0);
    expect(edge.stderr).toMatch(/edge/);
  });
});

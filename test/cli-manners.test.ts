/**
 * CLI manners a user meets on day one: `decode` and `window` never let one input's output
 * overwrite another's (TCIA/LIDC series all hold a `000001.dcm`); `window`, `preview` and `run`
 * share one padding default (air), so the sheet used to choose a strategy shows what the shards
 * hold; `--set` paths are relative to the current directory, not to the YAML.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctElements, writeDicom } from '../src/dicom/write.js';
import { decodeNpy } from '../src/util/npy.js';
import { generateDataset } from '../src/fixtures/index.js';
import { ctwindow } from './helpers/shared.js';
import { writePipeline } from './helpers/pipeline.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctw-manners-'));
  // Two series, each with a 000001.dcm, different pixels; stored −2000 is PixelPaddingValue.
  for (const [k, series] of ['s1', 's2'].entries()) {
    mkdirSync(join(dir, series));
    const px = Int16Array.from({ length: 16 }, (_, i) => (i < 4 ? -2000 : 100 * (k + 1) + i));
    const elements = ctElements({ rows: 4, cols: 4, intercept: 0, extra: [{ tag: 0x00280120, vr: 'SS', value: -2000 }] });
    writeFileSync(join(dir, series, '000001.dcm'), writeDicom({ transferSyntax: '1.2.840.10008.1.2.1', elements, pixelData: px }));
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('one output per input', () => {
  it('decode: two 000001.dcm of different series give two files, each its own pixels', () => {
    const out = join(dir, 'dec');
    const r = ctwindow(['decode', join(dir, 's1', '000001.dcm'), join(dir, 's2', '000001.dcm'), '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['s1__000001.npy', 's2__000001.npy']);
    expect(decodeNpy(readFileSync(join(out, 's1__000001.npy'))).data[4]).toBe(104);
    expect(decodeNpy(readFileSync(join(out, 's2__000001.npy'))).data[4]).toBe(204);
  });

  it('window: the same, and a file given twice is refused rather than written twice', () => {
    const out = join(dir, 'win');
    const r = ctwindow(['window', join(dir, 's1', '000001.dcm'), join(dir, 's2', '000001.dcm'), '--strategy', 'lung', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['s1__000001.npy', 's2__000001.npy']);
    const twice = ctwindow(['window', join(dir, 's1', '000001.dcm'), join(dir, 's1', '000001.dcm'), '--strategy', 'lung', '--out', join(dir, 'twice')]);
    expect(twice.status).not.toBe(0);
    expect(twice.stderr).toMatch(/two inputs would write 000001\.npy.*the same file given twice/);
  });
});

describe('one padding default', () => {
  it('decode and window treat PixelPaddingValue pixels as air unless told to keep them, as run does', () => {
    const f = join(dir, 's1', '000001.dcm');
    for (const [cmd, extra] of [['decode', []], ['window', ['--strategy', 'none', '--param', 'repeat=false']]] as const) {
      const dflt = join(dir, `${cmd}-default`);
      const keep = join(dir, `${cmd}-keep`);
      expect(ctwindow([cmd, f, ...extra, '--out', dflt]).status).toBe(0);
      expect(ctwindow([cmd, f, ...extra, '--padding', 'keep', '--out', keep]).status).toBe(0);
      const a = decodeNpy(readFileSync(join(dflt, '000001.npy'))).data;
      const b = decodeNpy(readFileSync(join(keep, '000001.npy'))).data;
      if (cmd === 'decode') {
        expect(a[0]).toBe(-1000); // air
        expect(b[0]).toBe(-2000); // as stored
      } else expect(Array.from(a)).not.toEqual(Array.from(b));
    }
    const help = ctwindow(['preview', '--help']).stdout + ctwindow(['window', '--help']).stdout + ctwindow(['decode', '--help']).stdout;
    expect(help.replace(/\s+/g, ' ').match(/\(default: "air"\)/g)?.length).toBe(3);
  });
});

describe('--set paths', () => {
  it('are relative to the current directory; the YAML\'s own paths to the YAML', async () => {
    const work = join(dir, 'work');
    await generateDataset(join(work, 'data'), { exams: 2, slicesPerExam: 4, rows: 24, cols: 24, seed: 1 });
    mkdirSync(join(work, 'conf'));
    const yaml = await writePipeline(join(work, 'conf'), {
      source: { csv: '../data/train.csv', dicomRoot: '../data/train' },
      split: { val: 0 }, window: { strategy: 'lung' }, resize: [16, 16], balance: { mode: 'none' }, batch: { size: 4 },
      output: { dir: '../out/yaml' }, backend: 'cpu', workers: 0,
    });
    const r = ctwindow(['run', yaml, '-q', '--set', 'output.dir=from-cwd'], { cwd: work });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(work, 'from-cwd', 'manifest.json'))).toBe(true);
    expect(existsSync(join(work, 'conf', 'from-cwd'))).toBe(false);
  });
});

/**
 * Generated series with known geometry for slice-context tests and benchmarks: RSNA layout
 * (`<dir>/train/<Study>/<Series>/<SOP>.dcm` + `<dir>/train.csv`), random file names, files
 * written and CSV rows listed in a seeded random order (rows of a series kept together),
 * InstanceNumber running against position, and optional gaps and duplicate positions.
 *
 * @example
 *   const v = await writeContextVolume('/tmp/v', { series: [{ slices: 12, gapAfter: [6], duplicateOf: [3] }], rows: 32, cols: 32, seed: 1 });
 *   v.series[0].sorted;   // the slices in true anatomical order
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../sampling/rng.js';
import { phantomSlice } from '../fixtures/phantom.js';
import { writeCtSlice } from '../fixtures/write-dicom.js';
import { RSNA_COLUMNS } from '../fixtures/dataset.js';

export interface VolumeSeriesSpec {
  slices: number;
  /** Spacing in mm (default 2.5). */
  spacing?: number;
  /** Extra spacing (one missing slice) after these indices of the unshuffled series. */
  gapAfter?: number[];
  /** Add a slice at the same position as each of these indices. */
  duplicateOf?: number[];
  /** Label 1 for indices in [from, to]. */
  positive?: [number, number];
}

export interface VolumeSlice {
  study: string;
  series: string;
  sop: string;
  path: string;
  z: number;
  instance: number;
  label: 0 | 1;
}

export interface ContextVolume {
  dir: string;
  csv: string;
  dicomRoot: string;
  /** Per series: its slices sorted by (z, InstanceNumber), the order the context stage must find. */
  series: { study: string; series: string; sorted: VolumeSlice[]; gapAfter: number[] }[];
}

export interface ContextVolumeOptions {
  series: VolumeSeriesSpec[];
  rows: number;
  cols: number;
  /** Seed of the UIDs and pixels: the same seed gives the same files. */
  seed: number;
  /** Seed of the write order and CSV row order only (default: seed). */
  orderSeed?: number;
  /** Write only the first `distinct` slices' pixels; the rest repeat them (fast benchmarks). */
  distinct?: number;
}

const hex = (rng: Rng, n = 16) => Array.from({ length: n }, () => rng.int(16).toString(16)).join('');

export async function writeContextVolume(dir: string, o: ContextVolumeOptions): Promise<ContextVolume> {
  const rng = new Rng(o.seed, 'context-volume');
  const orderRng = new Rng(o.orderSeed ?? o.seed, 'context-volume-order');
  const dicomRoot = join(dir, 'train');
  await rm(dicomRoot, { recursive: true, force: true });
  const out: ContextVolume = { dir, csv: join(dir, 'train.csv'), dicomRoot, series: [] };
  const csvRows: string[][] = [];
  for (const spec of o.series) {
    const pixelCache: Float32Array[] = [];
    const study = `1.2.${hex(rng, 10)}`, series = `1.3.${hex(rng, 10)}`;
    const spacing = spec.spacing ?? 2.5;
    const zs: number[] = [];
    let z = 0;
    for (let k = 0; k < spec.slices; k++) {
      zs.push(z);
      z += spacing * ((spec.gapAfter ?? []).includes(k) ? 3 : 1);
    }
    const positions = [...zs, ...(spec.duplicateOf ?? []).map((k) => zs[k])];
    const n = positions.length;
    const slices: VolumeSlice[] = positions.map((zmm, k) => {
      const label: 0 | 1 = spec.positive && k < spec.slices && k >= spec.positive[0] && k <= spec.positive[1] ? 1 : 0;
      return { study, series, sop: `1.4.${hex(rng)}`, path: '', z: zmm, instance: n - k, label };
    });
    await mkdir(join(dicomRoot, study, series), { recursive: true });
    const writeOrder = slices.map((_, k) => k);
    orderRng.shuffle(writeOrder);
    for (const k of writeOrder) {
      const s = slices[k];
      s.path = join(dicomRoot, study, series, `${s.sop}.dcm`);
      // Pixels of index k, or of k mod `distinct` (benchmarks: few distinct images, many files).
      const base = o.distinct ? k % o.distinct : k;
      const hu = (pixelCache[base] ??= phantomSlice({ rows: o.rows, cols: o.cols, z: (base % spec.slices) / Math.max(1, spec.slices - 1), positive: slices[base].label === 1, seed: o.seed * 7919 + base }));
      if (!o.distinct) delete pixelCache[base];
      await writeFile(s.path, writeCtSlice({ hu, rows: o.rows, cols: o.cols, study, series, sop: s.sop, instance: s.instance, z: s.z }));
    }
    const rowsOfSeries = slices.map((s) => [study, series, s.sop, String(s.label), s.label ? '0' : '1', ...RSNA_COLUMNS.slice(5).map(() => '0')]);
    orderRng.shuffle(rowsOfSeries);
    csvRows.push(...rowsOfSeries);
    const sorted = [...slices].sort((a, b) => a.z - b.z || a.instance - b.instance);
    const gapAfter: number[] = [];
    for (let i = 1; i < sorted.length; i++) if (sorted[i].z - sorted[i - 1].z > spacing * 1.5) gapAfter.push(i - 1);
    out.series.push({ study, series, sorted, gapAfter });
  }
  await writeFile(out.csv, [RSNA_COLUMNS.join(','), ...csvRows.map((r) => r.join(','))].join('\n') + '\n');
  return out;
}

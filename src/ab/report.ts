/**
 * The A/B report: report.md and report.html (same content: settings, data, a metrics table,
 * the paired comparisons with their verdicts, plots) and PNG plots drawn with
 * @napi-rs/canvas: ROC curves (every seed, one colour per strategy), AUC per seed and
 * strategy with 95% CIs, and the paired AUC differences with their CIs.
 *
 * Plots are drawn by hand on a canvas because no maintained Node charting library renders
 * to PNG without a browser; the drawing is a few axes, lines and dots.
 *
 * @example
 *   await writeReport('out/ab', results, { timing: { totalMs: 93000 } });
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';
import type { AbResults } from './run.js';
import type { MetricCi } from './bootstrap.js';

const FONT = 'DejaVu Sans';
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
let fontsReady = false;

function ensureFonts(): void {
  if (fontsReady) return;
  for (const f of ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/dejavu/DejaVuSans.ttf']) {
    if (existsSync(f)) {
      GlobalFonts.registerFromPath(f, FONT);
      break;
    }
  }
  fontsReady = true;
}

interface Frame {
  ctx: SKRSContext2D;
  x: (v: number) => number;
  y: (v: number) => number;
}

/** Axes with ticks and labels; returns data→pixel mappings. */
function axes(ctx: SKRSContext2D, W: number, H: number, o: { title: string; xlabel: string; ylabel: string; x0: number; x1: number; y0: number; y1: number; xticks?: number[]; yticks: number[] }): Frame {
  const L = 70, R = 20, T = 40, B = 60;
  const x = (v: number) => L + ((v - o.x0) / (o.x1 - o.x0)) * (W - L - R);
  const y = (v: number) => H - B - ((v - o.y0) / (o.y1 - o.y0)) * (H - T - B);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, W, H);
  ctx.strokeStyle = '#dddddd';
  ctx.lineWidth = 1;
  ctx.fillStyle = '#333333';
  ctx.font = `13px "${FONT}"`;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const t of o.yticks) {
    ctx.beginPath();
    ctx.moveTo(L, y(t));
    ctx.lineTo(W - R, y(t));
    ctx.stroke();
    ctx.fillText(t.toFixed(2), L - 6, y(t));
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of o.xticks ?? []) {
    ctx.beginPath();
    ctx.moveTo(x(t), T);
    ctx.lineTo(x(t), H - B);
    ctx.stroke();
    ctx.fillText(t.toFixed(1), x(t), H - B + 6);
  }
  ctx.strokeStyle = '#333333';
  ctx.strokeRect(L, T, W - L - R, H - T - B);
  ctx.font = `bold 15px "${FONT}"`;
  ctx.textBaseline = 'middle';
  ctx.fillText(o.title, W / 2, T / 2);
  ctx.font = `13px "${FONT}"`;
  ctx.fillText(o.xlabel, (L + W - R) / 2, H - 18);
  ctx.save();
  ctx.translate(18, (T + H - B) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(o.ylabel, 0, 0);
  ctx.restore();
  return { ctx, x, y };
}

function legend(ctx: SKRSContext2D, x: number, y: number, items: { label: string; color: string }[]): void {
  ctx.font = `13px "${FONT}"`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  const w = Math.max(...items.map((i) => ctx.measureText(i.label).width)) + 40;
  ctx.fillStyle = 'rgba(255,255,255,0.9)';
  ctx.fillRect(x - 6, y - 12, w, items.length * 20 + 4);
  items.forEach((it, i) => {
    ctx.fillStyle = it.color;
    ctx.fillRect(x, y + i * 20 - 3, 22, 6);
    ctx.fillStyle = '#222222';
    ctx.fillText(it.label, x + 28, y + i * 20);
  });
}

/** ROC curves of every strategy and seed. */
export async function plotRoc(r: AbResults): Promise<Buffer> {
  ensureFonts();
  const W = 640, H = 600;
  const canvas = createCanvas(W, H);
  const f = axes(canvas.getContext('2d'), W, H, {
    title: `ROC on ${r.data.valExams} held-out exams (${r.settings.seeds.length} seed${r.settings.seeds.length > 1 ? 's' : ''} each)`,
    xlabel: 'false positive rate (1 − specificity)',
    ylabel: 'sensitivity',
    x0: 0, x1: 1, y0: 0, y1: 1,
    xticks: [0, 0.2, 0.4, 0.6, 0.8, 1],
    yticks: [0, 0.2, 0.4, 0.6, 0.8, 1],
  });
  const { ctx } = f;
  ctx.setLineDash([4, 4]);
  ctx.strokeStyle = '#999999';
  ctx.beginPath();
  ctx.moveTo(f.x(0), f.y(0));
  ctx.lineTo(f.x(1), f.y(1));
  ctx.stroke();
  ctx.setLineDash([]);
  r.strategies.forEach((s, i) => {
    ctx.strokeStyle = COLORS[i % COLORS.length];
    ctx.lineWidth = 2;
    ctx.globalAlpha = s.seeds.length > 1 ? 0.75 : 1;
    for (const sd of s.seeds) {
      ctx.beginPath();
      sd.roc.forEach((p, k) => (k ? ctx.lineTo(f.x(p.fpr), f.y(p.tpr)) : ctx.moveTo(f.x(p.fpr), f.y(p.tpr))));
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  });
  ctx.setLineDash([2, 3]);
  ctx.strokeStyle = '#555555';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(f.x(1 - r.settings.specificity), f.y(0));
  ctx.lineTo(f.x(1 - r.settings.specificity), f.y(1));
  ctx.stroke();
  ctx.setLineDash([]);
  legend(ctx, f.x(0.45), f.y(0.25), r.strategies.map((s, i) => ({ label: `${s.name}  AUC ${s.pooled.auc.estimate.toFixed(3)}`, color: COLORS[i % COLORS.length] })));
  return canvas.encode('png');
}

function ciRange(cis: MetricCi[], pad = 0.05): [number, number] {
  const lo = Math.min(...cis.map((c) => c.lo), ...cis.map((c) => c.estimate));
  const hi = Math.max(...cis.map((c) => c.hi), ...cis.map((c) => c.estimate));
  return [Math.max(0, Math.floor((lo - pad) * 10) / 10), Math.min(1, Math.ceil((hi + pad) * 10) / 10)];
}

function ticks(a: number, b: number, n = 5): number[] {
  const step = (b - a) / n;
  return Array.from({ length: n + 1 }, (_, i) => a + i * step);
}

/** AUC per seed (dots with 95% CI whiskers) and the seed mean (bar), per strategy. */
export async function plotAucPerSeed(r: AbResults): Promise<Buffer> {
  ensureFonts();
  const W = 640, H = 480;
  const canvas = createCanvas(W, H);
  const all = r.strategies.flatMap((s) => [...s.seeds.map((d) => d.auc), s.pooled.auc]);
  const [y0, y1] = ciRange(all);
  const n = r.strategies.length;
  const f = axes(canvas.getContext('2d'), W, H, { title: 'AUC per seed and strategy (95% exam-bootstrap CI)', xlabel: 'strategy', ylabel: 'ROC AUC', x0: 0, x1: n, y0, y1, yticks: ticks(y0, y1, Math.round((y1 - y0) / (y1 - y0 > 0.3 ? 0.1 : 0.05))) });
  const { ctx } = f;
  r.strategies.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const k = s.seeds.length;
    s.seeds.forEach((d, j) => {
      const cx = f.x(i + 0.5 + (k > 1 ? (j / (k - 1) - 0.5) * 0.4 : 0));
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(cx, f.y(d.auc.lo));
      ctx.lineTo(cx, f.y(d.auc.hi));
      ctx.stroke();
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc(cx, f.y(d.auc.estimate), 5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillStyle = '#333333';
      ctx.font = `11px "${FONT}"`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      ctx.fillText(`s${d.seed}`, cx, f.y(d.auc.lo) + 4);
    });
    ctx.strokeStyle = '#222222';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(f.x(i + 0.22), f.y(s.pooled.auc.estimate));
    ctx.lineTo(f.x(i + 0.78), f.y(s.pooled.auc.estimate));
    ctx.stroke();
    ctx.fillStyle = '#222222';
    ctx.font = `13px "${FONT}"`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillText(s.name, f.x(i + 0.5), H - 60 + 6);
  });
  return canvas.encode('png');
}

/** Paired AUC differences (pooled over seeds) with 95% CIs, one row per pair. */
export async function plotDifferences(r: AbResults): Promise<Buffer> {
  ensureFonts();
  const W = 640, H = 120 + 50 * r.comparisons.length;
  const canvas = createCanvas(W, H);
  const m = Math.max(0.05, ...r.comparisons.flatMap((c) => [Math.abs(c.pooled.lo), Math.abs(c.pooled.hi), Math.abs(c.pooled.estimate)]));
  const lim = Math.ceil(m * 10 + 0.5) / 10;
  const n = r.comparisons.length;
  const ctx = canvas.getContext('2d');
  const f = axes(ctx, W, H, { title: 'Paired AUC difference a − b (95% CI, mean over seeds)', xlabel: 'AUC difference', ylabel: '', x0: -lim, x1: lim, y0: 0, y1: n, xticks: ticks(-lim, lim, 4), yticks: [] });
  ctx.strokeStyle = '#555555';
  ctx.setLineDash([4, 4]);
  ctx.beginPath();
  ctx.moveTo(f.x(0), f.y(0));
  ctx.lineTo(f.x(0), f.y(n));
  ctx.stroke();
  ctx.setLineDash([]);
  r.comparisons.forEach((c, i) => {
    const cy = f.y(n - i - 0.5);
    const color = c.pooled.significant ? '#d62728' : '#555555';
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(f.x(c.pooled.lo), cy);
    ctx.lineTo(f.x(c.pooled.hi), cy);
    ctx.stroke();
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.arc(f.x(c.pooled.estimate), cy, 5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = '#222222';
    ctx.font = `12px "${FONT}"`;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'bottom';
    ctx.fillText(`${c.a} − ${c.b}`, f.x(-lim) + 6, cy - 6);
  });
  return canvas.encode('png');
}

const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
const ci = (c: MetricCi) => `${f3(c.estimate)} [${f3(c.lo)}, ${f3(c.hi)}]`;
const pv = (p: number) => (p < 0.001 ? '< 0.001' : p.toFixed(3));

interface Table {
  head: string[];
  rows: string[][];
}

function tables(r: AbResults): { metrics: Table; comparisons: Table } {
  const spec = `sens @ spec ${r.settings.specificity}`;
  const metrics: Table = { head: ['strategy', 'seed', 'ROC AUC [95% CI]', 'accuracy @ 0.5', spec, 'train slices (pos)'], rows: [] };
  for (const s of r.strategies) {
    for (const d of s.seeds) metrics.rows.push([s.name, String(d.seed), ci(d.auc), ci(d.accuracy), ci(d.sensitivity), `${s.trainSlices} (${s.trainPositives})`]);
    metrics.rows.push([`**${s.name}**`, 'mean', `**${ci(s.pooled.auc)}**`, ci(s.pooled.accuracy), ci(s.pooled.sensitivity), '']);
  }
  const comparisons: Table = { head: ['a − b', 'seed', 'ΔAUC', '95% CI', 'p', 'CI excludes 0'], rows: [] };
  for (const c of r.comparisons) {
    for (const d of c.perSeed) comparisons.rows.push([`${c.a} − ${c.b}`, String(d.seed), f3(d.estimate), `[${f3(d.lo)}, ${f3(d.hi)}]`, pv(d.p), d.significant ? 'yes' : 'no']);
    comparisons.rows.push([`**${c.a} − ${c.b}**`, 'mean', `**${f3(c.pooled.estimate)}**`, `[${f3(c.pooled.lo)}, ${f3(c.pooled.hi)}]`, pv(c.pooled.p), c.pooled.significant ? '**yes**' : 'no']);
  }
  return { metrics, comparisons };
}

function mdTable(t: Table): string {
  return [`| ${t.head.join(' | ')} |`, `|${t.head.map(() => '---').join('|')}|`, ...t.rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Minimal markdown-inline → HTML for our own strings (**bold**, `code`). */
function inline(s: string): string {
  return esc(s).replace(/\*\*(.+?)\*\*/g, '<b>$1</b>').replace(/`(.+?)`/g, '<code>$1</code>');
}

function htmlTable(t: Table): string {
  return `<table>\n<tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>\n${t.rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('\n')}\n</table>`;
}

interface Section {
  title: string;
  paragraphs?: string[];
  bullets?: string[];
  table?: Table;
  image?: { file: string; alt: string };
}

function sections(r: AbResults, timing?: Record<string, number>): Section[] {
  const t = tables(r);
  const d = r.data;
  const out: Section[] = [
    { title: 'Verdict', bullets: r.comparisons.map((c) => c.verdict) },
    {
      title: 'What was compared',
      bullets: r.strategies.map((s) => `**${s.name}**: \`${s.pipeline}\`, channels [${s.channels.join(', ')}], config hash \`${s.configHash.slice(0, 12)}\``),
    },
    {
      title: 'Method',
      paragraphs: [
        `Every strategy's shards come from the same exams and the same exam-level split (same source, split, seed and balance). ` +
          `The same model (\`${r.model.name}\`: ${r.model.conv.length} conv blocks, input ${r.model.input.size}×${r.model.input.size}) is trained for ${r.settings.epochs} epochs with identical seeds ` +
          `(initial weights and data order) per strategy, on the ${r.settings.backend} backend, for seeds ${r.settings.seeds.join(', ')}.`,
        `Evaluation: ${d.valSlices} held-out slices (${d.valPositives} positive) from ${d.valExams} exams (${d.valPositiveExams} with PE); ${d.trainExams} exams were used for training. ` +
          `Confidence intervals: percentile, ${r.settings.replicates} bootstrap replicates resampling whole exams (stratified by exams with/without PE), not slices. ` +
          `Comparisons: paired bootstrap (the same exam draw for both strategies) of the AUC difference; the "mean" row averages over seeds within each replicate. ` +
          `A winner is stated only when the 95% CI of the mean difference excludes 0.`,
        ...(r.comparisons.length > 1
          ? [`${r.comparisons.length} pairwise comparisons: the intervals are not adjusted for multiplicity; for a family-wise 5% error read a difference as established only when p < ${(0.05 / r.comparisons.length).toFixed(4)} (Bonferroni) and B is large enough to resolve it (smallest p = ${(2 / (r.settings.replicates + 1)).toFixed(4)}).`]
          : []),
      ],
      bullets: d.notes.length ? d.notes : undefined,
    },
    { title: 'Metrics (95% CI over exams)', table: t.metrics },
    { title: 'Paired comparisons of ROC AUC', table: t.comparisons },
    { title: 'ROC curves', image: { file: 'roc.png', alt: 'ROC curves per strategy and seed' } },
    { title: 'AUC per seed', image: { file: 'auc-per-seed.png', alt: 'AUC per seed and strategy' } },
    { title: 'AUC differences', image: { file: 'auc-diff.png', alt: 'Paired AUC differences with CIs' } },
  ];
  if (timing) {
    out.push({ title: 'Run time', bullets: Object.entries(timing).map(([k, v]) => `${k}: ${(v / 1000).toFixed(1)} s`) });
  }
  return out;
}

export function renderMarkdown(r: AbResults, timing?: Record<string, number>): string {
  const parts = [`# Windowing A/B: ${r.strategies.map((s) => s.name).join(' vs ')}`, ''];
  for (const s of sections(r, timing)) {
    parts.push(`## ${s.title}`, '');
    for (const p of s.paragraphs ?? []) parts.push(p, '');
    if (s.bullets) parts.push(...s.bullets.map((b) => `- ${b}`), '');
    if (s.table) parts.push(mdTable(s.table), '');
    if (s.image) parts.push(`![${s.image.alt}](${s.image.file})`, '');
  }
  parts.push('All numbers: `results.json`.', '');
  return parts.join('\n');
}

export function renderHtml(r: AbResults, timing?: Record<string, number>): string {
  const title = `Windowing A/B: ${r.strategies.map((s) => s.name).join(' vs ')}`;
  const body: string[] = [`<h1>${esc(title)}</h1>`];
  for (const s of sections(r, timing)) {
    body.push(`<h2>${esc(s.title)}</h2>`);
    for (const p of s.paragraphs ?? []) body.push(`<p>${inline(p)}</p>`);
    if (s.bullets) body.push(`<ul>${s.bullets.map((b) => `<li>${inline(b)}</li>`).join('')}</ul>`);
    if (s.table) body.push(htmlTable(s.table));
    if (s.image) body.push(`<p><img src="${s.image.file}" alt="${esc(s.image.alt)}"></p>`);
  }
  body.push('<p>All numbers: <a href="results.json">results.json</a>.</p>');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:"DejaVu Sans",sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:14px}th{background:#f3f3f3}
img{max-width:100%;border:1px solid #eee}code{background:#f5f5f5;padding:0 3px}</style></head>
<body>
${body.join('\n')}
</body></html>
`;
}

/** Writes report.md, report.html and the PNG plots into `dir`. */
export async function writeReport(dir: string, r: AbResults, o: { timing?: Record<string, number> } = {}): Promise<string[]> {
  const files: [string, Buffer | string][] = [
    ['roc.png', await plotRoc(r)],
    ['auc-per-seed.png', await plotAucPerSeed(r)],
    ['auc-diff.png', await plotDifferences(r)],
    ['report.md', renderMarkdown(r, o.timing)],
    ['report.html', renderHtml(r, o.timing)],
  ];
  for (const [name, data] of files) await writeFile(join(dir, name), data);
  return files.map(([n]) => join(dir, n));
}

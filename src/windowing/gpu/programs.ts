/**
 * The three WebGPU programs of the fused windowing path, in tfjs-backend-webgpu's
 * `WebGPUProgram` form (tfjs adds the bindings — `result` for the output, one read-only array
 * per name in `variableNames` — and the shape uniforms, then compiles and caches by shaderKey).
 *
 *   RangePartialsProgram  [B,H,W] HU → [B,P,2Q] partial min/max (P runs of RUN pixels per slice)
 *   RangeFinalProgram     [B,P,2Q] → [B,2Q] per-slice min/max
 *   FusedOutputProgram    [B,H,W] HU → [B,H,W,C] float32, or uint8 packed 4 per u32 (as int32)
 *
 * @example
 *   const p = new RangePartialsProgram(layout, 'terms', [8, 512, 512]);
 *   const partials = backend.runWebGPUProgram(p, [hu, sl], 'float32');
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { type FusedInput, type FusedLayout, inputFunctions, mapExpr, pixelFunctions } from './codegen.js';

const WG = 256;

/** Pixels one invocation of the partial reduction folds (a contiguous run of one slice). */
export const RUN = 256;

/** Partial min/max runs per slice. */
export function partialsPerSlice(pixels: number): number {
  return Math.max(1, Math.ceil(pixels / RUN));
}

/**
 * Dawn's 'auto' pipeline layout drops bindings the shader never uses, and tfjs binds every
 * input; a phony assignment (`_ = x[0];`) counts as a use.
 */
function keepBindings(names: string[], code: string): string {
  return code.replace('fn main(index: i32) {', `fn main(index: i32) {\n  ${names.map((n) => `_ = ${n}[0];`).join(' ')}`);
}

function flatDispatch(threads: number, wg: number): [number, number, number] {
  return [Math.max(1, Math.ceil(threads / wg)), 1, 1];
}

/**
 * Pass 1 ('terms') or pass 2 ('scalars'): each invocation folds a run of RUN pixels of one slice
 * to min/max per quantity, output [B,P,2Q]. Written without workgroup memory or barriers: on
 * lavapipe (LLVM) a shared-memory tree reduction made the shader take 3–25 s to compile, this
 * form compiles in a fraction of a second, and on a GPU the fold stays memory-bound either way.
 */
export class RangePartialsProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0, 1, 2] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number] = [WG, 1, 1];
  uniforms?: string;
  private readonly code: string;

  constructor(layout: FusedLayout, which: 'terms' | 'scalars', [B, H, W]: number[], input: FusedInput = 'float32') {
    const P = partialsPerSlice(H * W);
    const quantities =
      which === 'terms'
        ? layout.termRanges.map((t) => `term${t}(x, s)`)
        : layout.scalarRanges.map((si) => `rawScalar${si}(x, s)`);
    const Q = quantities.length;
    this.outputShape = [B, P, 2 * Q];
    this.dispatch = flatDispatch(B * P, WG);
    this.variableNames = which === 'terms' || layout.termRanges.length === 0 ? ['hu', 'sl'] : ['hu', 'sl', 'ra'];
    this.shaderKey = `ctwRange_${which}_${input}_${layout.key}`;
    if (input !== 'float32') this.uniforms = 'nB : i32, nHW : i32,';
    const decl = quantities.map((_, q) => `var mn${q} = 3.402823e38; var mx${q} = -3.402823e38;`).join('\n  ');
    const acc = quantities.map((e, q) => `let v${q} = ${e}; mn${q} = min(mn${q}, v${q}); mx${q} = max(mx${q}, v${q});`).join('\n    ');
    const store = quantities.map((_, q) => `result[index * ${2 * Q} + ${2 * q}] = mn${q}; result[index * ${2 * Q} + ${2 * q + 1}] = mx${q};`).join('\n  ');
    this.code = `
${inputFunctions(input, layout.sliceColumns)}
${pixelFunctions(layout, which === 'scalars' && layout.termRanges.length > 0, false)}
fn main(index: i32) {
  let HW = dimHW();
  let P = (HW + ${RUN - 1}) / ${RUN};
  if (index >= dimB() * P) { return; }
  let s = index / P;
  let start = (index % P) * ${RUN};
  let end = min(start + ${RUN}, HW);
  ${decl}
  for (var p = start; p < end; p = p + 1) {
    let x = loadX(s * HW + p, s);
    ${acc}
  }
  ${store}
}`;
  }

  getUserCode(): string {
    return keepBindings(this.variableNames, this.code);
  }
}

/** [B,P,2Q] partials → [B,2Q]: even columns min, odd columns max. */
export class RangeFinalProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey = 'ctwRangeFinal';
  dispatchLayout = { x: [0, 1] };
  dispatch: [number, number, number];
  variableNames = ['part'];
  workgroupSize: [number, number, number] = [64, 1, 1];

  constructor([B, , Q2]: number[]) {
    this.outputShape = [B, Q2];
    this.dispatch = flatDispatch(B * Q2, 64);
  }

  getUserCode(): string {
    // P and 2Q from the input's shape uniform: one shader for every slice size and plan
    return keepBindings(
      this.variableNames,
      `
fn main(index: i32) {
  let P = uniforms.partShape.y;
  let Q2 = uniforms.partShape.z;
  if (index >= uniforms.partShape.x * Q2) { return; }
  let s = index / Q2;
  let k = index % Q2;
  var v = part[(s * P) * Q2 + k];
  for (var p = 1; p < P; p = p + 1) {
    let w = part[(s * P + p) * Q2 + k];
    if (k % 2 == 0) { v = min(v, w); } else { v = max(v, w); }
  }
  result[index] = v;
}`,
    );
  }
}

/**
 * Output pass. float32: one thread per pixel writes C floats.
 * uint8: one thread per 4 pixels writes C u32 words holding the 4·C bytes in [pixel][channel]
 * order (little endian), so the int32 result read back is exactly the [B,H,W,C] uint8 bytes.
 * Quantisation: round-half-to-even(clamp(v,0,1)·255), as tfjs's `round` on the CPU.
 */
export class FusedOutputProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number] = [WG, 1, 1];
  private readonly code: string;

  uniforms?: string;

  constructor(layout: FusedLayout, mode: 'float32' | 'uint8', [B, H, W]: number[], input: FusedInput = 'float32') {
    const C = layout.channels;
    const N = B * H * W;
    const hasA = layout.termRanges.length > 0;
    const hasB = layout.scalarRanges.length > 0;
    this.variableNames = ['hu', 'sl', ...(hasA ? ['ra'] : []), ...(hasB ? ['rb'] : [])];
    const scalars = layout.usedScalars.map((si) => `let g${si} = scalar${si}(x, s);`).join(' ');
    const chans = layout.plan.outputs.map((o) => mapExpr(o.map, `g${o.scalar}`));
    const fns = `${inputFunctions(input, layout.sliceColumns)}\n${pixelFunctions(layout, hasA, hasB)}`;
    if (input !== 'float32') this.uniforms = 'nB : i32, nHW : i32,';
    if (mode === 'float32') {
      this.outputShape = [B, H, W, C];
      this.dispatchLayout = { x: [0, 1, 2, 3] };
      this.dispatch = flatDispatch(N, WG);
      this.code = `
${fns}
fn main(index: i32) {
  let HW = dimHW();
  if (index >= dimB() * HW) { return; }
  let s = index / HW;
  let x = loadX(index, s);
  ${scalars}
  ${chans.map((e, c) => `result[index * ${C} + ${c}] = ${e};`).join('\n  ')}
}`;
    } else {
      const groups = Math.ceil(N / 4);
      this.outputShape = [groups * C];
      this.dispatchLayout = { x: [0] };
      this.dispatch = flatDispatch(groups, WG);
      this.code = `
${fns}
fn q8(v: f32) -> u32 { return u32(round(clamp(v, 0.0, 1.0) * 255.0)); }
fn main(index: i32) {
  let HW = dimHW();
  let N = dimB() * HW;
  if (index * 4 >= N) { return; }
  var words: array<u32, ${C}>;
  for (var j = 0; j < 4; j = j + 1) {
    let n = index * 4 + j;
    if (n < N) {
      let s = n / HW;
      let x = loadX(n, s);
      ${scalars}
      ${chans
        .map(
          (e, c) =>
            `{ let k = j * ${C} + ${c}; words[k / 4] = words[k / 4] | (q8(${e}) << (u32(k % 4) * 8u)); }`,
        )
        .join('\n      ')}
    }
  }
  for (var w = 0; w < ${C}; w = w + 1) { result[index * ${C} + w] = bitcast<i32>(words[w]); }
}`;
    }
    this.shaderKey = `ctwFused_${mode}_${input}_${layout.key}`;
  }

  getUserCode(): string {
    return keepBindings(this.variableNames, this.code);
  }
}

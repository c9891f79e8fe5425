/**
 * The three WebGPU programs of the fused windowing path, in tfjs-backend-webgpu's
 * `WebGPUProgram` form (tfjs adds the bindings — `result` for the output, one read-only array
 * per name in `variableNames` — and the shape uniforms, then compiles and caches by shaderKey).
 *
 *   RangePartialsProgram  [B,H,W] HU → [B,P,2Q] partial min/max (P workgroups per slice)
 *   RangeFinalProgram     [B,P,2Q] → [B,2Q] per-slice min/max
 *   FusedOutputProgram    [B,H,W] HU → [B,H,W,C] float32, or uint8 packed 4 per u32 (as int32)
 *
 * @example
 *   const p = new RangePartialsProgram(layout, 'terms', [8, 512, 512]);
 *   const partials = backend.runWebGPUProgram(p, [hu, sl], 'float32');
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { type FusedLayout, mapExpr, pixelFunctions } from './codegen.js';

const WG = 256;

/** Workgroups per slice for the partial reductions: about 4096 pixels each, at most 64. */
export function partialsPerSlice(pixels: number): number {
  return Math.max(1, Math.min(64, Math.ceil(pixels / 4096)));
}

const FLAT_WG_INDEX = 'i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x)';

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

/** Pass 1 ('terms') or pass 2 ('scalars'): per-workgroup min/max of the reduced quantities. */
export class RangePartialsProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0, 1, 2] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number] = [WG, 1, 1];
  private readonly code: string;

  constructor(layout: FusedLayout, which: 'terms' | 'scalars', [B, H, W]: number[]) {
    const P = partialsPerSlice(H * W);
    const quantities =
      which === 'terms'
        ? layout.termRanges.map((t) => `term${t}(x, s)`)
        : layout.scalarRanges.map((si) => `rawScalar${si}(x, s)`);
    const Q = quantities.length;
    this.outputShape = [B, P, 2 * Q];
    this.dispatch = [B * P, 1, 1];
    this.variableNames = which === 'terms' || layout.termRanges.length === 0 ? ['hu', 'sl'] : ['hu', 'sl', 'ra'];
    this.shaderKey = `ctwRange_${which}_${P}_${layout.key}`;
    const decl = quantities.map((_, q) => `var mn${q} = 3.402823e38; var mx${q} = -3.402823e38;`).join('\n    ');
    const acc = quantities.map((e, q) => `let v${q} = ${e}; mn${q} = min(mn${q}, v${q}); mx${q} = max(mx${q}, v${q});`).join('\n      ');
    const store = quantities.map((_, q) => `red[li * ${2 * Q} + ${2 * q}] = mn${q}; red[li * ${2 * Q} + ${2 * q + 1}] = mx${q};`).join('\n    ');
    // Two barrier-separated folds (16 threads × 16 entries, then one thread × 16) instead of a
    // log2(256)-step tree: lavapipe compiles every barrier into a separate shader section, and the
    // 8-barrier tree made compilation take seconds.
    const foldAt = (dst: string, src: string) =>
      quantities
        .map(
          (_, q) =>
            `red[${dst} * ${2 * Q} + ${2 * q}] = min(red[${dst} * ${2 * Q} + ${2 * q}], red[${src} * ${2 * Q} + ${2 * q}]); ` +
            `red[${dst} * ${2 * Q} + ${2 * q + 1}] = max(red[${dst} * ${2 * Q} + ${2 * q + 1}], red[${src} * ${2 * Q} + ${2 * q + 1}]);`,
        )
        .join('\n        ');
    this.code = `
${pixelFunctions(layout, which === 'scalars' && layout.termRanges.length > 0, false)}
var<workgroup> red: array<f32, ${WG * 2 * Q}>;
fn main(index: i32) {
  let wg = ${FLAT_WG_INDEX};
  let li = i32(localIndex);
  let B = uniforms.huShape.x;
  let HW = uniforms.huShape.y * uniforms.huShape.z;
  let valid = wg < B * ${P};
  let s = select(0, wg / ${P}, valid);
  let chunk = wg % ${P};
  let L = (HW + ${P - 1}) / ${P};
  let start = chunk * L;
  let end = select(start, min(start + L, HW), valid);
  ${decl}
  for (var p = start + li; p < end; p = p + ${WG}) {
    let x = hu[s * HW + p];
    ${acc}
  }
  ${store}
  workgroupBarrier();
  if (li < 16) {
    for (var j = 1; j < 16; j = j + 1) {
        ${foldAt('(li * 16)', '(li * 16 + j)')}
    }
  }
  workgroupBarrier();
  if (li == 0) {
    for (var j = 1; j < 16; j = j + 1) {
        ${foldAt('0', '(j * 16)')}
    }
  }
  if (valid && li == 0) {
    for (var k = 0; k < ${2 * Q}; k = k + 1) { result[wg * ${2 * Q} + k] = red[k]; }
  }
}`;
  }

  getUserCode(): string {
    return keepBindings(this.variableNames, this.code);
  }
}

/** [B,P,2Q] partials → [B,2Q]: even columns min, odd columns max. */
export class RangeFinalProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0, 1] };
  dispatch: [number, number, number];
  variableNames = ['part'];
  workgroupSize: [number, number, number] = [64, 1, 1];
  private readonly P: number;
  private readonly Q2: number;

  constructor([B, P, Q2]: number[]) {
    this.outputShape = [B, Q2];
    this.dispatch = flatDispatch(B * Q2, 64);
    this.shaderKey = `ctwRangeFinal_${P}_${Q2}`;
    this.P = P;
    this.Q2 = Q2;
  }

  getUserCode(): string {
    return `
fn main(index: i32) {
  let n = uniforms.outShape.x * ${this.Q2};
  if (index >= n) { return; }
  let s = index / ${this.Q2};
  let k = index % ${this.Q2};
  var v = part[(s * ${this.P}) * ${this.Q2} + k];
  for (var p = 1; p < ${this.P}; p = p + 1) {
    let w = part[(s * ${this.P} + p) * ${this.Q2} + k];
    if (k % 2 == 0) { v = min(v, w); } else { v = max(v, w); }
  }
  result[index] = v;
}`;
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

  constructor(layout: FusedLayout, mode: 'float32' | 'uint8', [B, H, W]: number[]) {
    const C = layout.channels;
    const N = B * H * W;
    const hasA = layout.termRanges.length > 0;
    const hasB = layout.scalarRanges.length > 0;
    this.variableNames = ['hu', 'sl', ...(hasA ? ['ra'] : []), ...(hasB ? ['rb'] : [])];
    const scalars = layout.usedScalars.map((si) => `let g${si} = scalar${si}(x, s);`).join(' ');
    const chans = layout.plan.outputs.map((o) => mapExpr(o.map, `g${o.scalar}`));
    const fns = pixelFunctions(layout, hasA, hasB);
    if (mode === 'float32') {
      this.outputShape = [B, H, W, C];
      this.dispatchLayout = { x: [0, 1, 2, 3] };
      this.dispatch = flatDispatch(N, WG);
      this.code = `
${fns}
fn main(index: i32) {
  let HW = uniforms.huShape.y * uniforms.huShape.z;
  if (index >= uniforms.huShape.x * HW) { return; }
  let s = index / HW;
  let x = hu[index];
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
  let HW = uniforms.huShape.y * uniforms.huShape.z;
  let N = uniforms.huShape.x * HW;
  if (index * 4 >= N) { return; }
  var words: array<u32, ${C}>;
  for (var j = 0; j < 4; j = j + 1) {
    let n = index * 4 + j;
    if (n < N) {
      let s = n / HW;
      let x = hu[n];
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
    this.shaderKey = `ctwFused_${mode}_${layout.key}`;
  }

  getUserCode(): string {
    return keepBindings(this.variableNames, this.code);
  }
}

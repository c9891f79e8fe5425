/**
 * A faster filter gradient for tfjs's Conv2D on the cpu and wasm backends.
 *
 * tfjs-backend-cpu computes Conv2DBackpropFilter with a naive 7-deep loop: profiling one
 * small-CNN training step (64×64 input) puts ~80% of the time there. The wasm backend has
 * no Conv2DBackpropFilter kernel at all. The same gradient is a sum of kh·kw matrix
 * products, dW[i,j] = patch(i,j)ᵀ · dy with patch(i,j) the strided, shifted input view
 * [B·Ho·Wo, Cin]; matMul is a blocked kernel on cpu and XNNPACK on wasm. Written here
 * because no tfjs release ships a faster cpu kernel or any wasm one; the override is limited to the cases it covers
 * (NHWC, dilation 1, 'same'/'valid' padding) and falls back to tfjs's own gradient otherwise.
 * It changes only the order of the float32 sums: deterministic, equal to tfjs's result to
 * rounding (test/ab-train.test.ts compares them).
 *
 * @example
 *   installFastConv2DGrad();   // once, before training
 */
import * as tf from '@tensorflow/tfjs-core';

let installed = false;

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

/** dW for x [B,H,W,Cin], dy [B,Ho,Wo,Cout], filter [kh,kw,Cin,Cout]; undefined when not covered. */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: unknown,
  dilations: number | [number, number] = 1,
  dataFormat = 'NHWC',
): tf.Tensor4D | undefined {
  const [dh, dw] = pair(dilations);
  if (x.rank !== 4 || dy.rank !== 4 || dataFormat !== 'NHWC' || dh !== 1 || dw !== 1 || (pad !== 'same' && pad !== 'valid')) return undefined;
  const [sh, sw] = pair(strides);
  const [B, H, W, C] = x.shape;
  const [kh, kw, , co] = filterShape;
  const [, Ho, Wo] = dy.shape;
  let top = 0, bottom = 0, left = 0, right = 0;
  if (pad === 'same') {
    const ph = Math.max((Ho - 1) * sh + kh - H, 0);
    const pw = Math.max((Wo - 1) * sw + kw - W, 0);
    top = Math.floor(ph / 2);
    bottom = ph - top;
    left = Math.floor(pw / 2);
    right = pw - left;
  }
  // Pad so that the padded height/width is exactly s·(Ho + ⌊(k−1)/s⌋): then a reshape to
  // [B, H'/s, s, W'/s, s, C] and one transpose turn every strided patch into a plain 4-D slice,
  // which is much cheaper than stridedSlice on both cpu and wasm.
  const needH = sh * (Ho + Math.floor((kh - 1) / sh));
  const needW = sw * (Wo + Math.floor((kw - 1) / sw));
  return tf.tidy(() => {
    let xp: tf.Tensor4D = x;
    const padB = needH - (H + top);
    const padR = needW - (W + left);
    if (top || left || padB > 0 || padR > 0) xp = tf.pad(xp, [[0, 0], [top, Math.max(0, padB)], [left, Math.max(0, padR)], [0, 0]]);
    if (xp.shape[1] !== needH || xp.shape[2] !== needW) xp = tf.slice(xp, [0, 0, 0, 0], [B, needH, needW, C]);
    // Phases first: [sh, sw, B, H'/sh, W'/sw, C] → 4-D [sh·sw·B, H'/sh, W'/sw, C]; every patch is then a 4-D slice.
    const Hs = needH / sh;
    const Ws = needW / sw;
    const ph = tf.reshape(tf.transpose(tf.reshape(xp, [B, Hs, sh, Ws, sw, C]), [2, 4, 0, 1, 3, 5]), [sh * sw * B, Hs, Ws, C]);
    const dy2 = tf.reshape(dy, [B * Ho * Wo, co]);
    const parts: tf.Tensor2D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const patch = tf.slice(ph, [((i % sh) * sw + (j % sw)) * B, Math.floor(i / sh), Math.floor(j / sw), 0], [B, Ho, Wo, C]);
        parts.push(tf.matMul(tf.reshape(patch, [B * Ho * Wo, C]), dy2, true, false));
      }
    }
    return tf.reshape(tf.stack(parts), [kh, kw, C, co]) as tf.Tensor4D;
  });
}

/** Replaces the Conv2D gradient's filter part (once per process); the input part is tfjs's own. */
export function installFastConv2DGrad(): void {
  if (installed) return;
  const original = tf.getGradient(tf.Conv2D);
  if (!original) return;
  tf.registerGradient({
    kernelName: tf.Conv2D,
    inputsToSave: original.inputsToSave,
    outputsToSave: original.outputsToSave,
    gradFunc: (dy, saved, attrs) => {
      const base = original.gradFunc(dy, saved, attrs);
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as tf.Conv2DAttrs;
      return {
        ...base,
        filter: () =>
          conv2dFilterGrad(x, dy as tf.Tensor4D, filter.shape, a.strides, a.pad, a.dilations, a.dataFormat) ?? (base.filter() as tf.Tensor4D),
      };
    },
  });
  installed = true;
}

/**
 * The seed's twelve strategies (shared/bench/seed_windowing.py, notebook "Gradient & Sigmoid
 * Windowing") as WindowPlan parts, with their default parameters. `params` overrides them.
 *
 * @example
 *   const { scalars, outputs } = strategyParts('multi-window', {});
 *   // scalars: three clip windows 40/80, 80/200, 600/2000 normalised by the image; outputs: identity maps
 */
import type { StrategyName, WindowConfig } from './config.js';
import type { ChannelMap, ClipTerm, OutputChannel, ScalarPlan, SigmoidTerm, WindowTerm } from './plan.js';

type Params = NonNullable<WindowConfig['params']>;
type Win = { center: number; width: number };

/** Lung window of the notebook: [-125, 225] = center 50, width 350. */
export const LUNG_WINDOW: Win = { center: 50, width: 350 };
/** The notebook's three windows (brain/subdural/bone) used by the ensembles. */
export const BSB_WINDOWS: Win[] = [
  { center: 40, width: 80 },
  { center: 80, width: 200 },
  { center: 600, width: 2000 },
];
/** channelwise: R = lung −600/1500, G = PE 100/700, B = mediastinal 40/400. */
export const CHANNELWISE_WINDOWS: Win[] = [
  { center: -600, width: 1500 },
  { center: 100, width: 700 },
  { center: 40, width: 400 },
];
const CHANNELWISE_NAMES = ['lung', 'pe', 'mediastinal'];
export const GRADIENT_ENSEMBLE_WEIGHTS = [0.3, 0.5, 0.2];
export const SIGMOID_GRADIENT_ENSEMBLE_WEIGHTS = [0.35, 0.5, 0.15];
export const SIGMOID_U = 1;
export const SIGMOID_EPS = 1 / 255;

const clip = (w: Win, above: 'clamp' | 'floor' = 'clamp', weight = 1): ClipTerm => ({
  kind: 'clip', center: w.center, width: w.width, source: 'fixed', above, norm: 'image', weight,
});
const sigmoid = (w: Win, p: Params, weight = 1): SigmoidTerm => ({
  kind: 'sigmoid', center: w.center, width: w.width, U: p.U ?? SIGMOID_U, eps: p.eps ?? SIGMOID_EPS, norm: 'image', weight,
});
const one = (t: WindowTerm): ScalarPlan => ({ terms: [t], norm: 'none' });
const label = (prefix: string, w: Win) => `${prefix}(${w.center},${w.width})`;
const identity: ChannelMap = { kind: 'identity' };

function gradientOutputs(prefix: string, floor: number): OutputChannel[] {
  return (['r', 'g', 'b'] as const).map((component) => ({ name: `${prefix}.${component}`, scalar: 0, map: { kind: 'gradient', component, floor } }));
}

/** Scalars and outputs (before repetition and reordering) of a named strategy. */
export function strategyParts(name: StrategyName, p: Params): { scalars: ScalarPlan[]; outputs: OutputChannel[] } {
  const w1 = p.windows?.[0];
  const w3 = p.windows;
  switch (name) {
    case 'none':
      return { scalars: [one({ kind: 'raw', weight: 1 })], outputs: [{ name: 'raw', scalar: 0, map: identity }] };
    case 'lung':
      return { scalars: [one(clip(w1 ?? LUNG_WINDOW))], outputs: [{ name: 'lung', scalar: 0, map: identity }] };
    case 'metadata':
      return {
        scalars: [one({ kind: 'clip', center: 0, width: 0, source: 'metadata', truncate: p.truncate ?? true, above: 'clamp', norm: 'window', weight: 1 })],
        outputs: [{ name: 'metadata', scalar: 0, map: identity }],
      };
    case 'all-channels':
      // seed: out[2] = clip(3g), out[0] = clip(3g − 1), out[1] = clip(3g − 2)
      return {
        scalars: [one(clip(w1 ?? LUNG_WINDOW))],
        outputs: [
          { name: 'spread.r', scalar: 0, map: { kind: 'spread', index: 1 } },
          { name: 'spread.g', scalar: 0, map: { kind: 'spread', index: 2 } },
          { name: 'spread.b', scalar: 0, map: { kind: 'spread', index: 0 } },
        ],
      };
    case 'gradient':
      return { scalars: [one(clip(w1 ?? LUNG_WINDOW))], outputs: gradientOutputs('gradient', p.floor ?? 0) };
    case 'multi-window':
    case 'exclusive': {
      const ws = w3 ?? BSB_WINDOWS;
      const above = name === 'exclusive' ? 'floor' : 'clamp';
      return {
        scalars: ws.map((w) => one(clip(w, above))),
        outputs: ws.map((w, i) => ({ name: label(name === 'exclusive' ? 'exclusive' : 'clip', w), scalar: i, map: identity })),
      };
    }
    case 'gradient-ensemble': {
      const ws = w3 ?? BSB_WINDOWS;
      const wt = p.weights ?? GRADIENT_ENSEMBLE_WEIGHTS;
      return { scalars: [{ terms: ws.map((w, i) => clip(w, 'clamp', wt[i])), norm: 'none' }], outputs: gradientOutputs('gradient', p.floor ?? 0) };
    }
    case 'sigmoid':
      return { scalars: [one(sigmoid(w1 ?? BSB_WINDOWS[0], p))], outputs: [{ name: label('sigmoid', w1 ?? BSB_WINDOWS[0]), scalar: 0, map: identity }] };
    case 'sigmoid-ensemble': {
      const ws = w3 ?? BSB_WINDOWS;
      return { scalars: ws.map((w) => one(sigmoid(w, p))), outputs: ws.map((w, i) => ({ name: label('sigmoid', w), scalar: i, map: identity })) };
    }
    case 'sigmoid-gradient-ensemble': {
      const ws = w3 ?? BSB_WINDOWS;
      const wt = p.weights ?? SIGMOID_GRADIENT_ENSEMBLE_WEIGHTS;
      return { scalars: [{ terms: ws.map((w, i) => sigmoid(w, p, wt[i])), norm: 'image' }], outputs: gradientOutputs('gradient', p.floor ?? 0.01) };
    }
    case 'channelwise': {
      const ws = w3 ?? CHANNELWISE_WINDOWS;
      return { scalars: ws.map((w) => one(clip(w))), outputs: ws.map((w, i) => ({ name: w3 ? label('clip', w) : CHANNELWISE_NAMES[i], scalar: i, map: identity })) };
    }
  }
}

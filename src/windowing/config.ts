/**
 * The pipeline's `window:` block: a strategy by name with overridable parameters, or a custom
 * list of channels composed from the primitives (see plan.ts). Strict objects: unknown keys
 * are rejected; parameters a strategy does not take are rejected with the field named.
 *
 * @example
 *   window:
 *     strategy: sigmoid-gradient-ensemble
 *     params: { windows: [{center: 40, width: 80}, {center: 80, width: 200}, {center: 600, width: 2000}], weights: [0.35, 0.5, 0.15] }
 *
 *   window:
 *     channels:
 *       - { name: lung, terms: [{ kind: clip, center: -600, width: 1500 }] }
 *       - { name: pe, terms: [{ kind: sigmoid, center: 100, width: 700 }] }
 *       - { name: meta, terms: [{ kind: metadata }] }
 *     fallback: { center: 40, width: 400 }
 */
import { z } from 'zod';

export const STRATEGIES = [
  'none',
  'lung',
  'metadata',
  'all-channels',
  'gradient',
  'multi-window',
  'exclusive',
  'gradient-ensemble',
  'sigmoid',
  'sigmoid-ensemble',
  'sigmoid-gradient-ensemble',
  'channelwise',
] as const;
export type StrategyName = (typeof STRATEGIES)[number];

const finite = () => z.number().finite();

/** A window: center and width in HU. */
export const windowSpecSchema = z.strictObject({
  center: finite(),
  width: finite().positive(),
});

/** Which parameters each strategy takes, and how many windows. */
export const STRATEGY_PARAMS: Record<StrategyName, { windows: number; keys: string[] }> = {
  none: { windows: 0, keys: [] },
  lung: { windows: 1, keys: ['windows'] },
  metadata: { windows: 0, keys: ['truncate'] },
  'all-channels': { windows: 1, keys: ['windows', 'order'] },
  gradient: { windows: 1, keys: ['windows', 'floor', 'order'] },
  'multi-window': { windows: 3, keys: ['windows', 'order'] },
  exclusive: { windows: 3, keys: ['windows', 'order'] },
  'gradient-ensemble': { windows: 3, keys: ['windows', 'weights', 'floor', 'order'] },
  sigmoid: { windows: 1, keys: ['windows', 'U', 'eps'] },
  'sigmoid-ensemble': { windows: 3, keys: ['windows', 'U', 'eps', 'order'] },
  'sigmoid-gradient-ensemble': { windows: 3, keys: ['windows', 'weights', 'U', 'eps', 'floor', 'order'] },
  channelwise: { windows: 3, keys: ['windows', 'order'] },
};

const paramsSchema = z.strictObject({
  /** Windows, in channel order (1 or 3 depending on the strategy). */
  windows: z.array(windowSpecSchema).min(1).max(3).optional(),
  /** Ensemble weights, one per window. */
  weights: z.array(finite().nonnegative()).length(3).optional(),
  /** Sigmoid upper bound and epsilon (ue = ln(U/eps − 1)); eps < U. */
  U: finite().positive().optional(),
  eps: finite().positive().optional(),
  /** Gradient floor: components r and b are zero where g ≤ floor. */
  floor: finite().min(0).max(1).optional(),
  /** Output channel order: a permutation of [0, 1, 2] (out[i] = strategy channel order[i]). */
  order: z.array(z.number().int().min(0).max(2)).length(3).optional(),
  /** metadata: int() the window tags as the seed does (default true). */
  truncate: z.boolean().optional(),
});

const weight = finite().nonnegative().optional();

const customTermSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('raw'), weight }),
  z.strictObject({
    kind: z.literal('clip'),
    center: finite(),
    width: finite().positive(),
    /** Values above the window: clamp to its top, or drop to its floor (exclusive window). */
    above: z.enum(['clamp', 'floor']).optional(),
    norm: z.enum(['image', 'window']).optional(),
    weight,
  }),
  z.strictObject({
    kind: z.literal('metadata'),
    above: z.enum(['clamp', 'floor']).optional(),
    norm: z.enum(['image', 'window']).optional(),
    truncate: z.boolean().optional(),
    weight,
  }),
  z.strictObject({
    kind: z.literal('sigmoid'),
    center: finite(),
    width: finite().positive(),
    U: finite().positive().optional(),
    eps: finite().positive().optional(),
    norm: z.enum(['image', 'none']).optional(),
    weight,
  }),
]);

const channelMapSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('identity') }),
  z.strictObject({ kind: z.literal('gradient'), component: z.enum(['r', 'g', 'b']), floor: finite().min(0).max(1).optional() }),
  z.strictObject({ kind: z.literal('spread'), index: z.union([z.literal(0), z.literal(1), z.literal(2)]) }),
]);

const customChannelSchema = z.strictObject({
  name: z.string().min(1).optional(),
  /** Weighted sum of these terms (weight defaults to 1). */
  terms: z.array(customTermSchema).min(1),
  /** Normalise the sum by the slice's own range. Default 'none'. */
  norm: z.enum(['image', 'none']).optional(),
  map: channelMapSchema.optional(),
});

export const windowSchema = z
  .strictObject({
    strategy: z.enum(STRATEGIES).optional(),
    params: paramsSchema.optional(),
    channels: z.array(customChannelSchema).min(1).max(4).optional(),
    /** Single-channel results are repeated to 3 channels (default true). */
    repeat: z.boolean().default(true),
    /** Window for metadata terms on slices without window tags; without it such slices are quarantined. */
    fallback: windowSpecSchema.optional(),
  })
  .superRefine((cfg, ctx) => {
    if ((cfg.strategy === undefined) === (cfg.channels === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: cfg.strategy === undefined ? ['strategy'] : ['channels'],
        message:
          cfg.strategy === undefined
            ? `expected a strategy (one of ${STRATEGIES.join(', ')}) or a channels list, got neither`
            : 'expected either strategy or channels, got both',
      });
      return;
    }
    if (cfg.channels && cfg.params) {
      ctx.addIssue({ code: 'custom', path: ['params'], message: 'expected no params with a custom channels list (put them in the channels), got params' });
    }
    if (cfg.strategy && cfg.params) {
      const spec = STRATEGY_PARAMS[cfg.strategy];
      for (const key of Object.keys(cfg.params)) {
        if (!spec.keys.includes(key)) {
          ctx.addIssue({
            code: 'custom',
            path: ['params', key],
            message: `expected one of the parameters of ${cfg.strategy} (${spec.keys.join(', ') || 'none'}), got ${key}`,
          });
        }
      }
      const p = cfg.params;
      if (p.windows && spec.windows && p.windows.length !== spec.windows) {
        ctx.addIssue({ code: 'custom', path: ['params', 'windows'], message: `expected ${spec.windows} window(s) for ${cfg.strategy}, got ${p.windows.length}` });
      }
      if (p.order && new Set(p.order).size !== 3) {
        ctx.addIssue({ code: 'custom', path: ['params', 'order'], message: `expected a permutation of [0, 1, 2], got [${p.order.join(', ')}]` });
      }
      if (p.weights && p.weights.every((w) => w === 0)) {
        ctx.addIssue({ code: 'custom', path: ['params', 'weights'], message: 'expected at least one non-zero weight, got all zeros' });
      }
      const U = p.U ?? 1;
      const eps = p.eps ?? 1 / 255;
      if (!(eps < U)) ctx.addIssue({ code: 'custom', path: ['params', 'eps'], message: `expected eps < U (${U}), got ${eps}` });
    }
    cfg.channels?.forEach((ch, i) => {
      ch.terms.forEach((t, j) => {
        if (t.kind === 'sigmoid') {
          const U = t.U ?? 1;
          const eps = t.eps ?? 1 / 255;
          if (!(eps < U)) ctx.addIssue({ code: 'custom', path: ['channels', i, 'terms', j, 'eps'], message: `expected eps < U (${U}), got ${eps}` });
        }
      });
    });
  });

/** The parsed `window:` block (defaults applied). */
export type WindowConfig = z.infer<typeof windowSchema>;
/** The `window:` block as written in YAML (before defaults). */
export type WindowConfigInput = z.input<typeof windowSchema>;

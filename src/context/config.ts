/**
 * The pipeline's `context:` block: neighbouring slices as channels (2.5D input). Each offset
 * takes the slice that far along the series' slice normal, windowed with the pipeline's
 * `window:` (single-channel results are not repeated in context mode: the offsets fill the
 * channels). Channels are offset-major: with offsets [-1, 0, 1] and a one-channel window
 * named `pe`, the layout is `pe@-1, pe@0, pe@+1`; with three windows, 9 channels.
 *
 * @example
 *   context:
 *     offsets: [-1, 0, 1]      # slices along the normal (or millimetres with unit: mm)
 *     edge: replicate          # at a series end: repeat the end slice, or zero-fill
 *     gap: edge                # at a gap (spacing > gapFactor × median): edge rule, or step over it
 *     neighbours: folder       # neighbours from the series folder on disk, or only the CSV's rows
 */
import { z } from 'zod';

export const contextSchema = z
  .strictObject({
    /** Offsets along the slice normal; +1 is the next slice in increasing position. */
    offsets: z.array(z.number().finite()).min(1).max(16),
    /** `slices` (integer offsets) or `mm` (the slice nearest to position + offset). */
    unit: z.enum(['slices', 'mm']).default('slices'),
    /** What fills an offset beyond the series end: the end slice again, or zeros. */
    edge: z.enum(['replicate', 'zero']).default('replicate'),
    /** At a gap in the series: apply the edge rule (`edge`), or step over it (`ignore`). */
    gap: z.enum(['edge', 'ignore']).default('edge'),
    /** A spacing over this many times the series' median spacing is a gap. */
    gapFactor: z.number().finite().gt(1).default(1.5),
    /** Where neighbours come from: every slice in the series folder, or only the CSV's rows. */
    neighbours: z.enum(['folder', 'csv']).default('folder'),
    /** Windowed slices kept for reuse between batches (default: offsets' span + 2 × batch size). */
    cache: z.number().int().positive().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.unit === 'slices') {
      c.offsets.forEach((o, i) => {
        if (!Number.isInteger(o)) ctx.addIssue({ code: 'custom', path: ['offsets', i], message: `expected an integer number of slices (or unit: mm), got ${o}` });
      });
    }
    const seen = new Set<number>();
    c.offsets.forEach((o, i) => {
      if (seen.has(o)) ctx.addIssue({ code: 'custom', path: ['offsets', i], message: `expected distinct offsets, got ${o} twice` });
      seen.add(o);
    });
  });

/** The parsed `context:` block (defaults applied). */
export type ContextConfig = z.infer<typeof contextSchema>;
export type ContextConfigInput = z.input<typeof contextSchema>;

/** `-1` → `-1`, `0` → `0`, `1` → `+1`; mm offsets get a unit: `+2.5mm`. */
export function offsetLabel(offset: number, unit: ContextConfig['unit']): string {
  const s = offset > 0 ? `+${offset}` : `${offset}`;
  return unit === 'mm' ? `${s}mm` : s;
}

/**
 * The channel layout: offset-major, each offset's window channels in order.
 * @example contextChannels(['pe'], { offsets: [-1, 0, 1], unit: 'slices' }) // ['pe@-1', 'pe@0', 'pe@+1']
 */
export function contextChannels(windowChannels: string[], c: Pick<ContextConfig, 'offsets' | 'unit'>): string[] {
  return c.offsets.flatMap((o) => windowChannels.map((ch) => `${ch}@${offsetLabel(o, c.unit)}`));
}

/**
 * Parses `--context -1,0,1` (CLI) into offsets.
 * @example parseOffsets('-1,0,1') // [-1, 0, 1]
 */
export function parseOffsets(text: string, what = '--context'): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const out = parts.map((p) => {
    const v = Number(p);
    if (p === '' || !Number.isFinite(v)) throw new Error(`${what}: expected comma-separated numbers like -1,0,1, got ${JSON.stringify(text)}`);
    return v;
  });
  return out;
}

/**
 * The small CNN used by `ctwindow ab`, described in YAML (configs/models/small-cnn.yaml)
 * and built with tfjs-layers. Every initializer gets a seed derived from the run seed and
 * the layer index, so the same seed gives the same initial weights for every strategy
 * (the channel count of the first conv is the only thing that may differ).
 *
 * @example
 *   const spec = loadModelSpec('configs/models/small-cnn.yaml');
 *   const model = buildModel(spec, { channels: 3, seed: 1 }); // input [size, size, 3]
 */
import { readFileSync } from 'node:fs';
import * as tfl from '@tensorflow/tfjs-layers';
import { parse } from 'yaml';
import { z } from 'zod';

const ModelSpecSchema = z.object({
  name: z.string().default('small-cnn'),
  input: z.object({ size: z.number().int().min(8).max(512) }).default({ size: 64 }),
  conv: z
    .array(
      z.strictObject({
        filters: z.number().int().min(1).max(512),
        kernel: z.number().int().min(1).max(11),
        /** Convolution stride (2 halves the resolution at a quarter of the cost of conv + pool). */
        stride: z.number().int().min(1).max(4).default(1),
        /** 2×2 max pool after the conv. */
        pool: z.boolean().default(true),
      }),
    )
    .min(1),
  head: z.enum(['max', 'avg']).default('max'),
  dense: z.number().int().min(0).max(4096).default(16),
  dropout: z.number().min(0).max(0.9).default(0),
  train: z
    .object({
      epochs: z.number().int().min(1).max(1000).default(6),
      batchSize: z.number().int().min(1).max(4096).default(32),
      learningRate: z.number().positive().max(1).default(0.003),
    })
    .default({ epochs: 6, batchSize: 32, learningRate: 0.003 }),
}).strict();

export type ModelSpec = z.infer<typeof ModelSpecSchema>;

/** Validates a parsed model spec; `where` names the source in error messages. */
export function parseModelSpec(raw: unknown, where = 'model spec'): ModelSpec {
  const r = ModelSpecSchema.safeParse(raw);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${where}: ${msg}`);
  }
  return r.data;
}

export function loadModelSpec(path: string): ModelSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`model spec ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new Error(`model spec ${path}: invalid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  return parseModelSpec(raw, `model spec ${path}`);
}

/** Builds an uncompiled model with input [size, size, channels] and one sigmoid output. */
export function buildModel(spec: ModelSpec, opts: { channels: number; seed: number }): tfl.Sequential {
  const { channels, seed } = opts;
  if (!Number.isInteger(channels) || channels < 1) throw new Error(`buildModel: channels must be a positive integer, got ${channels}`);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`buildModel: seed must be a non-negative integer, got ${seed}`);
  let k = 0;
  const init = () => tfl.initializers.glorotUniform({ seed: seed * 1000 + k++ });
  const model = tfl.sequential({ name: spec.name.replace(/[^A-Za-z0-9_]/g, '_') });
  spec.conv.forEach((c, i) => {
    model.add(
      tfl.layers.conv2d({
        ...(i === 0 ? { inputShape: [spec.input.size, spec.input.size, channels] } : {}),
        filters: c.filters,
        kernelSize: c.kernel,
        strides: c.stride,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(),
        biasInitializer: 'zeros',
      }),
    );
    if (c.pool) model.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  });
  model.add(spec.head === 'max' ? tfl.layers.globalMaxPooling2d({}) : tfl.layers.globalAveragePooling2d({}));
  if (spec.dense > 0) {
    model.add(tfl.layers.dense({ units: spec.dense, activation: 'relu', kernelInitializer: init() }));
  }
  if (spec.dropout > 0) model.add(tfl.layers.dropout({ rate: spec.dropout, seed: seed * 1000 + k++ }));
  model.add(tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init() }));
  return model;
}

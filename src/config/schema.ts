/**
 * The pipeline YAML schema (zod). Every object is strict: an unknown key is an error that
 * names its path. Paths in `source` and `output` are resolved relative to the YAML file.
 */
import { z } from 'zod';
import { BACKENDS } from '../backend/names.js';
import { windowSchema } from '../windowing/config.js';
import { contextSchema } from '../context/config.js';
import { DEFAULT_PADDING } from '../dicom/hu.js';

const positiveInt = z.number().int().positive();

export const sourceSchema = z.strictObject({
  /** train.csv in the RSNA layout. */
  csv: z.string().min(1),
  /** Root of `<Study>/<Series>/<SOP>.dcm`. */
  dicomRoot: z.string().min(1),
  /** Label column: 0/1 values. */
  label: z.string().min(1).default('pe_present_on_image'),
  /** Column names of the three UIDs. */
  columns: z
    .strictObject({
      study: z.string().default('StudyInstanceUID'),
      series: z.string().default('SeriesInstanceUID'),
      sop: z.string().default('SOPInstanceUID'),
    })
    .default({ study: 'StudyInstanceUID', series: 'SeriesInstanceUID', sop: 'SOPInstanceUID' }),
  /** Keep only rows whose columns equal the given value(s), e.g. `{qa_motion: 0}`. */
  filter: z.record(z.string(), z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))])).optional(),
  /** Stop after this many rows (quick trials). */
  limit: positiveInt.optional(),
});

export const splitSchema = z.strictObject({
  /** Exam-level split: every row of one study lands on the same side. */
  by: z.literal('StudyInstanceUID').default('StudyInstanceUID'),
  /** Fraction of exams held out for validation. */
  val: z.number().min(0).max(1).default(0.2),
});

export const balanceSchema = z.strictObject({
  mode: z.enum(['none', 'undersample', 'oversample']).default('undersample'),
  positiveFraction: z.number().gt(0).lt(1).default(0.5),
  /** Which splits are balanced; validation usually keeps its natural distribution. */
  applyTo: z.enum(['train', 'all']).default('train'),
  /**
   * Per-class shuffle window (in kept slices): a batch draws its positives and negatives at
   * random from windows this large, so it mixes the many exams they span. Memory: at most
   * 16 × this many (at least 65,536) slice references per class (src/sampling/balance.ts).
   */
  buffer: positiveInt.default(4096),
});

export const quarantineSchema = z.strictObject({
  /**
   * The run fails (exit 1, after writing its manifest) when more than this share of the slices
   * it tried to use were quarantined (missing, unreadable, undecodable…). 1 never fails.
   */
  maxFraction: z.number().min(0).max(1).default(0.05),
});

export const batchSchema = z.strictObject({
  size: positiveInt.default(32),
});

export const outputSchema = z.strictObject({
  dir: z.string().min(1),
  dtype: z.enum(['uint8', 'float16', 'float32']).default('uint8'),
  shardBytes: positiveInt.default(256 * 1024 * 1024),
  /**
   * How shards reach the disk: 'direct' (O_DIRECT, bypassing the page cache), 'buffered', or
   * 'auto' (direct where the filesystem allows it). The bytes are the same (src/shards/shard-file.ts).
   */
  io: z.enum(['auto', 'direct', 'buffered']).default('auto'),
  /**
   * Also record each shard's sha256 in its index and the manifest. Every shard always has its
   * CRC-32C (free: folded from the frames' CRCs); sha256 costs one more pass over every byte
   * (~17 % of a CPU-bound run). Turn it on for content addressing or tamper evidence.
   */
  sha256: z.boolean().default(false),
});

export const decodeSchema = z.strictObject({
  /** PixelPaddingValue pixels: 'air' maps them to −1000 HU, 'keep' leaves the stored value's HU. */
  padding: z.enum(['air', 'keep']).default(DEFAULT_PADDING),
});

export const pipelineSchema = z.strictObject({
  name: z.string().optional(),
  source: sourceSchema,
  split: splitSchema.default({ by: 'StudyInstanceUID', val: 0.2 }),
  window: windowSchema,
  /** Slice context: neighbouring slices as channels (src/context/config.ts). */
  context: contextSchema.optional(),
  /** Output [height, width]; bilinear (half-pixel centres) after windowing. */
  resize: z.tuple([positiveInt, positiveInt]).default([256, 256]),
  balance: balanceSchema.default({ mode: 'undersample', positiveFraction: 0.5, applyTo: 'train', buffer: 4096 }),
  batch: batchSchema.default({ size: 32 }),
  output: outputSchema,
  decode: decodeSchema.default({ padding: DEFAULT_PADDING }),
  quarantine: quarantineSchema.default({ maxFraction: 0.05 }),
  seed: z.number().int().default(42),
  backend: z.enum(BACKENDS).default('auto'),
  /** Worker threads for decode + windowing: 'auto' = one per core. */
  workers: z.union([z.literal('auto'), z.number().int().min(0)]).default('auto'),
});

export type PipelineConfig = z.infer<typeof pipelineSchema>;

/**
 * The contracts between ctwindow's stages. Each stage folder (config, source, dicom,
 * windowing, sampling, batching, shards, cli) consumes and produces these types only,
 * so a stage can be replaced or tested without the others.
 *
 *   source  : train.csv rows  -> SliceRef | Quarantine
 *   sampling: SliceRef stream -> RefBatch (balanced, seeded)
 *   dicom   : bytes           -> DicomImage (stored values + rescale + geometry)
 *   windowing: HU [B,H,W]     -> [B,H,W,C] in [0,1]   (tfjs ops)
 *   batching: windowed slices -> BatchRecord (resized, quantised)
 *   shards  : BatchRecord     -> framed msgpack shards + manifest.json
 */

/** One CSV row joined to its DICOM path. */
export interface SliceRef {
  study: string;
  series: string;
  sop: string;
  /** 0 or 1, from the configured label column. */
  label: 0 | 1;
  /** Absolute path of `<dicomRoot>/<Study>/<Series>/<SOP>.dcm`. */
  path: string;
  /** 1-based line number of the row in the CSV (header is line 1). */
  row: number;
  /** 'train' or 'val', from the exam-level split. */
  split: Split;
  /** Neighbouring slices (src/context, `context:` in the YAML); absent without slice context. */
  context?: SliceNeighbours;
}

/** The neighbours of one centre slice, one entry per configured offset (src/context). */
export interface SliceNeighbours {
  /** Per offset: the slice to use (its path and SOP UID), or null for a zero-filled channel. */
  slices: ({ path: string; sop: string } | null)[];
  /** Per offset: true where the edge rule filled it (series end or gap). */
  filled: boolean[];
}

export type Split = 'train' | 'val';

/** Stage at which an input was set aside. */
export type QuarantineStage = 'csv' | 'read' | 'decode' | 'window';

/** An input set aside with its reason. Never silently dropped: every one lands in the manifest. */
export interface Quarantine {
  stage: QuarantineStage;
  reason: string;
  /** CSV line, when the input came from a row. */
  row?: number;
  path?: string;
  sop?: string;
  study?: string;
}

/** A decoded DICOM image. `stored` holds the stored values (after BitsStored masking and
 * sign extension) of every frame, frame-major then row-major. Convert to HU with
 * `dicom/hu.ts`. */
export interface DicomImage {
  transferSyntax: string;
  rows: number;
  cols: number;
  frames: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: 0 | 1;
  photometric: string;
  stored: Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array;
  /** Rescale slope/intercept (floating point, 1/0 when absent). */
  slope: number;
  intercept: number;
  /** Per-frame rescale (Enhanced CT); when present it overrides slope/intercept per frame. */
  frameRescale?: { slope: number; intercept: number }[];
  /** What the decoder noticed and worked around, e.g. a codestream other than the transfer syntax says. */
  warnings?: string[];
  windowCenter: number[];
  windowWidth: number[];
  pixelPaddingValue?: number;
  pixelPaddingRangeLimit?: number;
  modality?: string;
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  sopInstanceUID?: string;
  instanceNumber?: number;
  sliceLocation?: number;
  imagePositionPatient?: number[];
  imageOrientationPatient?: number[];
}

/** Output element type of the tensors written to shards. */
export type OutputDType = 'uint8' | 'float16' | 'float32';

/** One batch as written to a shard: one record. */
export interface BatchRecord {
  /** Raw tensor bytes, row-major [B,H,W,C], little endian for float types; or, when writing,
   * the same bytes as a list of parts (e.g. one per slice), which the writer frames without
   * joining them. Readers always give one Uint8Array. */
  images: Uint8Array | Uint8Array[];
  shape: [number, number, number, number];
  dtype: OutputDType;
  labels: number[];
  study: string[];
  series: string[];
  sop: string[];
  strategy: string;
  /** Channel names, length C. */
  channels: string[];
  split: Split;
  /** Running index of this batch within its split. */
  index: number;
  /** Optional per-slice extra metadata (e.g. neighbour SOP UIDs for slice context). */
  extra?: Record<string, unknown>;
}

/** The tfjs backend a run used. */
export interface BackendInfo {
  name: string;
  requested: string;
  /** Why this backend: e.g. "auto: tfjs-node-gpu not installed; wasm". */
  reason: string;
  adapter?: { vendor?: string; architecture?: string; description?: string; device?: string; isSoftware?: boolean };
}

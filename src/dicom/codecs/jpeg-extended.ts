/**
 * JPEG Extended 12-bit (1.2.840.10008.1.2.4.51, SOF1 with 12-bit precision). libjpeg-turbo's
 * published WASM build is 8-bit only, so 12-bit frames go through the pdf.js-derived
 * JpegImage that @cornerstonejs/dicom-image-loader ships (its `codecs/jpeg.js`, loaded by
 * path because the package does not export it). 8-bit precision frames in .4.51 files go
 * to libjpeg-turbo.
 *
 * @example jpegExtendedDecoder.decode(fragment, info).data  // Uint16Array
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DicomDecodeError } from '../errors.js';
import type { FrameDecoder, FrameInfo } from './types.js';
import { jpegBaselineDecoder } from './wasm.js';
import { sniffCodestream } from '../codestream.js';

interface JpegImageT {
  parse(data: Uint8Array): void;
  width: number;
  height: number;
  components: unknown[];
  colorTransform?: boolean;
  getData16(w: number, h: number): Uint16Array;
  getData(w: number, h: number): Uint8Array;
}
let JpegImage: (new () => JpegImageT) | undefined;
let loading: Promise<void> | undefined;

/**
 * jpeg.js level-shifts every precision by `(q + 2056 / bitConversion) >> 4` (its 8-bit
 * constant scaled by (2^P-1)/255) instead of `(q + 2^(P+3) + 8) >> 4`, which adds a
 * constant bias (15 for P = 12: every 12-bit sample comes out 15 or 16 too high; found
 * against the GDCM reference). Undo it: the result is exact for 15 of 16 values and
 * +1 for the rest, well inside lossy tolerance.
 */
export function removeLevelShiftBias(out: Uint16Array, precision: number): void {
  const used = Math.trunc((2056 * (2 ** precision - 1)) / 255);
  const bias = Math.floor((used - (2 ** (precision + 3) + 8)) / 16);
  if (bias <= 0) return;
  for (let i = 0; i < out.length; i++) out[i] = out[i] > bias ? out[i] - bias : 0;
}

export const jpegExtendedDecoder: FrameDecoder = {
  name: 'JPEG extended 12-bit (cornerstone jpeg.js)',
  ready: () => JpegImage !== undefined && jpegBaselineDecoder.ready(),
  init() {
    loading ??= (async () => {
      await jpegBaselineDecoder.init();
      const require = createRequire(import.meta.url);
      const entry = require.resolve('@cornerstonejs/dicom-image-loader');
      const mod = (await import(pathToFileURL(join(dirname(entry), 'codecs', 'jpeg.js')).href)) as { default: new () => JpegImageT };
      JpegImage = mod.default;
    })();
    return loading;
  },
  decode(encoded: Uint8Array, info: FrameInfo) {
    const precision = sniffCodestream(encoded)?.bits;
    if (precision === 8) return jpegBaselineDecoder.decode(encoded, info);
    if (!JpegImage) throw new DicomDecodeError('JPEG extended codec not initialised: await initCodecs() first', { kind: 'internal' });
    const jpeg = new JpegImage();
    let out: Uint16Array;
    try {
      jpeg.colorTransform = false;
      jpeg.parse(encoded);
      if (jpeg.width !== info.cols || jpeg.height !== info.rows) {
        throw new DicomDecodeError(`JPEG codestream is ${jpeg.width}×${jpeg.height}, header says ${info.cols}×${info.rows}`, { kind: 'corrupt-codestream' });
      }
      if (info.samplesPerPixel !== 1) throw new DicomDecodeError('12-bit JPEG with more than one sample per pixel is not supported', { kind: 'unsupported-pixels' });
      out = jpeg.getData16(info.cols, info.rows);
      if (precision !== undefined && precision > 8) removeLevelShiftBias(out, precision);
    } catch (e) {
      if (e instanceof DicomDecodeError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      throw new DicomDecodeError(`JPEG extended codec failed: ${msg}`, { kind: 'corrupt-codestream', cause: e });
    }
    const data = info.pixelRepresentation === 1 ? new Int16Array(out.buffer, out.byteOffset, out.length) : out;
    return { data, codestreamBits: precision };
  },
};

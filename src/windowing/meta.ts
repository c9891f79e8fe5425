/**
 * SliceWindowMeta of one frame of a decoded DICOM image (window tags, and the rescale that
 * frame uses: per-frame rescale of Enhanced CT overrides the image's).
 *
 * @example const meta = sliceMeta(await readDicomFile('a.dcm'));
 */
import type { DicomImage } from '../types.js';
import type { SliceWindowMeta } from './plan.js';

export function sliceMeta(img: DicomImage, frame = 0): SliceWindowMeta {
  const r = img.frameRescale?.[frame];
  return {
    windowCenter: img.windowCenter ?? [],
    windowWidth: img.windowWidth ?? [],
    slope: r?.slope ?? img.slope,
    intercept: r?.intercept ?? img.intercept,
  };
}

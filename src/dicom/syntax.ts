/**
 * Transfer syntax table: how the data set is encoded and which pixel decoder applies.
 *
 * @example
 *   transferSyntax('1.2.840.10008.1.2.4.90').codec  // 'jpeg2000'
 */
export type CodecName =
  | 'native'
  | 'rle'
  | 'jpeg-baseline'
  | 'jpeg-extended'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg2000';

export interface TransferSyntaxInfo {
  uid: string;
  name: string;
  explicitVR: boolean;
  littleEndian: boolean;
  deflated: boolean;
  /** Pixel data in fragments (encapsulated). */
  encapsulated: boolean;
  lossy: boolean;
  codec: CodecName;
}

const T = (
  uid: string,
  name: string,
  codec: CodecName,
  o: Partial<Pick<TransferSyntaxInfo, 'explicitVR' | 'littleEndian' | 'deflated' | 'lossy'>> = {},
): TransferSyntaxInfo => ({
  uid,
  name,
  explicitVR: o.explicitVR ?? true,
  littleEndian: o.littleEndian ?? true,
  deflated: o.deflated ?? false,
  encapsulated: codec !== 'native',
  lossy: o.lossy ?? false,
  codec,
});

export const TRANSFER_SYNTAXES: Record<string, TransferSyntaxInfo> = Object.fromEntries(
  [
    T('1.2.840.10008.1.2', 'Implicit VR Little Endian', 'native', { explicitVR: false }),
    T('1.2.840.10008.1.2.1', 'Explicit VR Little Endian', 'native'),
    T('1.2.840.10008.1.2.1.99', 'Deflated Explicit VR Little Endian', 'native', { deflated: true }),
    T('1.2.840.10008.1.2.2', 'Explicit VR Big Endian', 'native', { littleEndian: false }),
    T('1.2.840.10008.1.2.4.50', 'JPEG Baseline (8-bit)', 'jpeg-baseline', { lossy: true }),
    T('1.2.840.10008.1.2.4.51', 'JPEG Extended (12-bit)', 'jpeg-extended', { lossy: true }),
    T('1.2.840.10008.1.2.4.57', 'JPEG Lossless (Process 14)', 'jpeg-lossless'),
    T('1.2.840.10008.1.2.4.70', 'JPEG Lossless SV1', 'jpeg-lossless'),
    T('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless', 'jpeg-ls'),
    T('1.2.840.10008.1.2.4.81', 'JPEG-LS Near-Lossless', 'jpeg-ls', { lossy: true }),
    T('1.2.840.10008.1.2.4.90', 'JPEG 2000 Lossless', 'jpeg2000'),
    T('1.2.840.10008.1.2.4.91', 'JPEG 2000', 'jpeg2000', { lossy: true }),
    T('1.2.840.10008.1.2.5', 'RLE Lossless', 'rle'),
  ].map((t) => [t.uid, t]),
);

/** Info for a transfer syntax UID, or undefined when ctwindow has no decoder for it. */
export function transferSyntax(uid: string): TransferSyntaxInfo | undefined {
  return TRANSFER_SYNTAXES[uid];
}

/** A readable label: "1.2.840.10008.1.2.5 (RLE Lossless)". */
export function syntaxLabel(uid: string): string {
  const t = TRANSFER_SYNTAXES[uid];
  return t ? `${uid} (${t.name})` : `${uid} (unsupported)`;
}

/**
 * NumPy .npy (format version 1.0) writer and reader.
 * Written by hand: the format is a 10-byte preamble plus a Python-dict header
 * (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), and the npm
 * packages for it are unmaintained or browser-oriented; 40 lines cover what we need.
 *
 * @example
 *   await writeFile('x.npy', encodeNpy(new Float32Array([1, 2, 3, 4]), [2, 2]));
 */
export type NpyArray = Float32Array | Float64Array | Uint8Array | Int16Array | Uint16Array | Int32Array;

const DESCR: Record<string, string> = {
  Float32Array: '<f4',
  Float64Array: '<f8',
  Uint8Array: '|u1',
  Int16Array: '<i2',
  Uint16Array: '<u2',
  Int32Array: '<i4',
};

export function encodeNpy(data: NpyArray, shape: number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) {
    throw new Error(`encodeNpy: shape [${shape.join(',')}] holds ${n} values, data has ${data.length}`);
  }
  const descr = DESCR[data.constructor.name];
  if (!descr) throw new Error(`encodeNpy: unsupported array type ${data.constructor.name}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // Pad so that the data starts on a 64-byte boundary, header ends with '\n'.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY v1.0
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Reads a little-endian, C-order .npy written by encodeNpy or NumPy. */
export function decodeNpy(bytes: Uint8Array): { data: NpyArray; shape: number[]; descr: string } {
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') {
    throw new Error('decodeNpy: not a .npy file (bad magic)');
  }
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  const header = Buffer.from(bytes.subarray(hstart, hstart + hlen)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeStr === undefined) throw new Error('decodeNpy: unreadable header');
  if (/'fortran_order':\s*True/.test(header)) throw new Error('decodeNpy: Fortran order not supported');
  const shape = shapeStr.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const body = bytes.slice(hstart + hlen);
  const ctor = { '<f4': Float32Array, '<f8': Float64Array, '|u1': Uint8Array, '<i2': Int16Array, '<u2': Uint16Array, '<i4': Int32Array }[descr];
  if (!ctor) throw new Error(`decodeNpy: unsupported dtype ${descr}`);
  return { data: new ctor(body.buffer, body.byteOffset, body.byteLength / ctor.BYTES_PER_ELEMENT), shape, descr };
}

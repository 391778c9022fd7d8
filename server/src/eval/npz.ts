/**
 * Minimal reader for NumPy .npz files (a zip of .npy arrays, stored or deflated): enough for the
 * uint8 / integer arrays of the MedMNIST files.
 */
import { readFileSync } from "node:fs";
import { inflateRawSync } from "node:zlib";

export interface NpyArray {
  dtype: string;
  shape: number[];
  data: Uint8Array | Int32Array | Float32Array | Float64Array | BigInt64Array;
}

function parseNpy(buf: Buffer, where: string): NpyArray {
  if (buf.readUInt32BE(0) !== 0x934e554d || buf.toString("latin1", 1, 6) !== "NUMPY") throw new Error(`${where}: not a .npy array`);
  const major = buf[6]!;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString("latin1", start, start + headerLen);
  const dtype = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!dtype || shape === undefined) throw new Error(`${where}: cannot read the .npy header`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${where}: Fortran-order arrays are not supported`);
  const dims = shape.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const body = buf.subarray(start + headerLen);
  const copy = (n: number) => body.buffer.slice(body.byteOffset, body.byteOffset + n);
  const count = dims.reduce((a, b) => a * b, 1);
  const make: Record<string, () => NpyArray["data"]> = {
    "|u1": () => new Uint8Array(copy(count)),
    "<i4": () => new Int32Array(copy(4 * count)),
    "<i8": () => new BigInt64Array(copy(8 * count)),
    "<f4": () => new Float32Array(copy(4 * count)),
    "<f8": () => new Float64Array(copy(8 * count)),
  };
  const f = make[dtype];
  if (!f) throw new Error(`${where}: unsupported dtype ${dtype}`);
  return { dtype, shape: dims, data: f() };
}

/** Reads every array of an .npz file, keyed by name (without ".npy"). */
export function readNpz(path: string): Map<string, NpyArray> {
  const zip = readFileSync(path);
  const out = new Map<string, NpyArray>();
  let p = 0;
  while (p + 30 <= zip.length && zip.readUInt32LE(p) === 0x04034b50) {
    const flags = zip.readUInt16LE(p + 6);
    const method = zip.readUInt16LE(p + 8);
    let csize = zip.readUInt32LE(p + 18);
    const nameLen = zip.readUInt16LE(p + 26);
    const extraLen = zip.readUInt16LE(p + 28);
    const name = zip.toString("utf8", p + 30, p + 30 + nameLen);
    const extra = zip.subarray(p + 30 + nameLen, p + 30 + nameLen + extraLen);
    // ZIP64: sizes live in the extra field (id 0x0001).
    for (let e = 0; e + 4 <= extra.length; ) {
      const id = extra.readUInt16LE(e);
      const len = extra.readUInt16LE(e + 2);
      if (id === 1 && csize === 0xffffffff) csize = Number(extra.readBigUInt64LE(e + 4 + 8));
      e += 4 + len;
    }
    if (flags & 8) throw new Error(`${path}: ${name} uses a data descriptor (unsupported)`);
    const dataStart = p + 30 + nameLen + extraLen;
    const raw = zip.subarray(dataStart, dataStart + csize);
    const body = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : null;
    if (!body) throw new Error(`${path}: ${name} uses zip method ${method} (unsupported)`);
    out.set(name.replace(/\.npy$/, ""), parseNpy(Buffer.from(body), `${path}:${name}`));
    p = dataStart + csize;
  }
  if (out.size === 0) throw new Error(`${path}: no arrays found (not an .npz file?)`);
  return out;
}

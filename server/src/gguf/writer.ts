/**
 * A small GGUF (v3) writer: metadata key/values and F32/F16 tensors. Used to make fixture
 * models in tests and to export the bundled model (models/xraygpt-mini/train/export_gguf).
 *
 * Tensor dims are given in ggml order: `dims[0]` is the fastest-varying axis. A PyTorch
 * Linear weight of shape [out, in] is written as dims [in, out] with its bytes unchanged.
 */
import { open } from "node:fs/promises";

export type GgufValue =
  | { type: "u32"; value: number }
  | { type: "i32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "string[]"; value: string[] }
  | { type: "f32[]"; value: ArrayLike<number> }
  | { type: "i32[]"; value: ArrayLike<number> };

export interface GgufTensor {
  name: string;
  dims: number[];
  dtype: "f32" | "f16";
  /** Values in row-major order (dims[0] fastest); converted to dtype when written. */
  data: Float32Array;
}

const TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;
const TENSOR_TYPE = { f32: 0, f16: 1 } as const;
const ALIGNMENT = 32;

class ByteSink {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  str(s: string): void {
    const bytes = Buffer.from(s, "utf8");
    this.u64(bytes.length);
    this.push(bytes);
  }
  pad(to: number): void {
    const rem = this.length % to;
    if (rem) this.push(Buffer.alloc(to - rem));
  }
  buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function writeValue(out: ByteSink, v: GgufValue): void {
  switch (v.type) {
    case "u32":
      out.u32(TYPE.u32), out.u32(v.value);
      return;
    case "i32":
      out.u32(TYPE.i32), out.i32(v.value);
      return;
    case "f32":
      out.u32(TYPE.f32), out.f32(v.value);
      return;
    case "bool":
      out.u32(TYPE.bool), out.push(Buffer.from([v.value ? 1 : 0]));
      return;
    case "string":
      out.u32(TYPE.string), out.str(v.value);
      return;
    case "string[]":
      out.u32(TYPE.array), out.u32(TYPE.string), out.u64(v.value.length);
      for (const s of v.value) out.str(s);
      return;
    case "f32[]":
    case "i32[]": {
      const elem = v.type === "f32[]" ? TYPE.f32 : TYPE.i32;
      out.u32(TYPE.array), out.u32(elem), out.u64(v.value.length);
      const b = Buffer.alloc(4 * v.value.length);
      for (let i = 0; i < v.value.length; i++) elem === TYPE.f32 ? b.writeFloatLE(v.value[i]!, 4 * i) : b.writeInt32LE(v.value[i]!, 4 * i);
      out.push(b);
      return;
    }
  }
}

/** IEEE 754 half from a float (round to nearest even). */
export function toHalf(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

function tensorBytes(t: GgufTensor): Buffer {
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw new Error(`GGUF tensor ${t.name}: ${t.data.length} values for dims [${t.dims.join(", ")}] (${n})`);
  if (t.dtype === "f32") return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const b = Buffer.alloc(2 * n);
  for (let i = 0; i < n; i++) b.writeUInt16LE(toHalf(t.data[i]!), 2 * i);
  return b;
}

/** Serialize a GGUF file into memory. */
export function encodeGguf(metadata: Record<string, GgufValue>, tensors: GgufTensor[]): Buffer {
  const head = new ByteSink();
  head.u32(0x46554747); // "GGUF"
  head.u32(3);
  head.u64(tensors.length);
  const entries = Object.entries(metadata);
  head.u64(entries.length);
  for (const [key, value] of entries) {
    head.str(key);
    writeValue(head, value);
  }
  const datas = tensors.map(tensorBytes);
  let offset = 0;
  tensors.forEach((t, i) => {
    head.str(t.name);
    head.u32(t.dims.length);
    for (const d of t.dims) head.u64(d);
    head.u32(TENSOR_TYPE[t.dtype]);
    head.u64(offset);
    offset += Math.ceil(datas[i]!.length / ALIGNMENT) * ALIGNMENT;
  });
  head.pad(ALIGNMENT);
  for (const d of datas) {
    head.push(d);
    head.pad(ALIGNMENT);
  }
  return head.buffer();
}

export async function writeGguf(path: string, metadata: Record<string, GgufValue>, tensors: GgufTensor[]): Promise<void> {
  const fh = await open(path, "w");
  try {
    await fh.writeFile(encodeGguf(metadata, tensors));
  } finally {
    await fh.close();
  }
}

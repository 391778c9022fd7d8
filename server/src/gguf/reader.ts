/**
 * Reads a GGUF file's header: its metadata (key → value; arrays are counted, not kept) and its
 * tensor table (name, shape in ggml order ne[0..], type, offset), and where the tensor data ends,
 * so a truncated file is told apart before llama.cpp opens it. Only the header is read (a few MB
 * of a multi-GB model: the tokenizer's arrays are skipped over). Errors name the file, never its bytes.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

export type GgufScalar = number | bigint | boolean | string;
export interface GgufArrayInfo {
  array: true;
  itemType: number;
  length: number;
}

export interface GgufTensorInfo {
  name: string;
  /** ggml order: ne[0] is the innermost (row) dimension. */
  shape: number[];
  type: number;
  /** From the start of the tensor data. */
  offset: number;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufScalar | GgufArrayInfo>;
  tensors: GgufTensorInfo[];
  /** File offset of the tensor data. */
  dataOffset: number;
  /** File size in bytes. */
  fileSize: number;
  /** Where the last tensor's data ends (undefined when a tensor's type has an unknown size). */
  dataEnd?: number;
}

/** ggml type id → [block size (elements), bytes per block], for the types GGUF files carry. */
const TYPE_SIZES: Record<number, [number, number]> = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 36],
  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292],
  16: [256, 66], 17: [256, 74], 18: [256, 98], 19: [256, 50], 20: [32, 18], 21: [256, 110], 22: [256, 82],
  23: [256, 136], 24: [1, 1], 25: [1, 2], 26: [1, 4], 27: [1, 8], 28: [1, 8], 29: [256, 56], 30: [1, 2],
  34: [256, 54], 35: [256, 66], 39: [32, 17],
};

const MAX_HEADER_BYTES = 512 * 2 ** 20;

class FileCursor {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  pos = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly path: string,
  ) {}

  need(n: number): Buffer {
    if (this.pos + n > this.size) throw new Error(`${this.path}: the GGUF header is cut off at byte ${this.size} (truncated file)`);
    if (this.pos + n > MAX_HEADER_BYTES) throw new Error(`${this.path}: the GGUF header is larger than ${MAX_HEADER_BYTES >> 20} MB (corrupt)`);
    if (this.pos < this.bufStart || this.pos + n > this.bufStart + this.buf.length) {
      const len = Math.min(Math.max(n, 1 << 20), this.size - this.pos);
      this.buf = Buffer.alloc(len);
      readSync(this.fd, this.buf, 0, len, this.pos);
      this.bufStart = this.pos;
    }
    const at = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(at, at + n);
  }

  u8 = () => this.need(1).readUInt8(0);
  u32 = () => this.need(4).readUInt32LE(0);
  u64 = (): number => {
    const v = this.need(8).readBigUInt64LE(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${this.path}: a GGUF length of ${v} (corrupt)`);
    return Number(v);
  };
  string = (): string => this.need(this.u64()).toString("utf8");

  skip(n: number): void {
    if (this.pos + n > this.size) throw new Error(`${this.path}: the GGUF header is cut off at byte ${this.size} (truncated file)`);
    this.pos += n;
  }

  /** A value of GGUF type `t` (arrays: only their item type and length). */
  value(t: number): GgufScalar | GgufArrayInfo {
    switch (t) {
      case 0: return this.need(1).readUInt8(0);
      case 1: return this.need(1).readInt8(0);
      case 2: return this.need(2).readUInt16LE(0);
      case 3: return this.need(2).readInt16LE(0);
      case 4: return this.need(4).readUInt32LE(0);
      case 5: return this.need(4).readInt32LE(0);
      case 6: return this.need(4).readFloatLE(0);
      case 7: return this.need(1).readUInt8(0) !== 0;
      case 8: return this.string();
      case 9: {
        const itemType = this.u32();
        const length = this.u64();
        const fixed = [1, 1, 2, 2, 4, 4, 4, 1, -1, -1, 8, 8, 8][itemType];
        if (fixed === undefined || (fixed === -1 && itemType === 9)) throw new Error(`${this.path}: unsupported GGUF array item type ${itemType}`);
        if (fixed > 0) this.skip(fixed * length);
        else for (let i = 0; i < length; i++) this.skip(this.u64());
        return { array: true, itemType, length };
      }
      case 10: return this.need(8).readBigUInt64LE(0);
      case 11: return this.need(8).readBigInt64LE(0);
      case 12: return this.need(8).readDoubleLE(0);
      default: throw new Error(`${this.path}: unknown GGUF value type ${t} (corrupt)`);
    }
  }
}

/** The header of the GGUF file at `path`; throws with the file's name and what is wrong. */
export function readGgufHeader(path: string): GgufHeader {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); // a FIFO is refused below, never waited on
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === "ENOENT" ? `${path} does not exist` : `${path} cannot be opened (${code ?? (e as Error).message})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    const c = new FileCursor(fd, st.size, path);
    if (st.size < 24 || c.need(4).toString("latin1") !== "GGUF") throw new Error(`${path} is not a GGUF file (no GGUF magic)`);
    const version = c.u32();
    if (version < 2 || version > 3) throw new Error(`${path}: unsupported GGUF version ${version}`);
    const nTensors = c.u64();
    const nKeys = c.u64();
    if (nTensors > 1_000_000 || nKeys > 100_000) throw new Error(`${path}: the GGUF header claims ${nTensors} tensors and ${nKeys} metadata entries (corrupt)`);
    const metadata = new Map<string, GgufScalar | GgufArrayInfo>();
    for (let i = 0; i < nKeys; i++) {
      const key = c.string();
      metadata.set(key, c.value(c.u32()));
    }
    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < nTensors; i++) {
      const name = c.string();
      const nDims = c.u32();
      if (nDims > 8) throw new Error(`${path}: tensor ${i} has ${nDims} dimensions (corrupt)`);
      const shape = Array.from({ length: nDims }, () => c.u64());
      tensors.push({ name, shape, type: c.u32(), offset: c.u64() });
    }
    const alignment = Number(metadata.get("general.alignment") ?? 32) || 32;
    const dataOffset = Math.ceil(c.pos / alignment) * alignment;
    let dataEnd: number | undefined = dataOffset;
    for (const t of tensors) {
      const size = TYPE_SIZES[t.type];
      if (!size || dataEnd === undefined) {
        dataEnd = undefined;
        continue;
      }
      const elements = t.shape.reduce((a, b) => a * b, 1);
      dataEnd = Math.max(dataEnd, dataOffset + t.offset + Math.ceil(elements / size[0]) * size[1]);
    }
    return { version, metadata, tensors, dataOffset, fileSize: st.size, ...(dataEnd !== undefined ? { dataEnd } : {}) };
  } finally {
    closeSync(fd);
  }
}

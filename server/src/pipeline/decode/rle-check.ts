/**
 * Structural validation of a DICOM RLE Lossless frame (PS3.5 Annex G), as dcmtk's RLE decoder
 * checks it, before any pixel is returned: the 64-byte header's segment count equals
 * SamplesPerPixel × BitsAllocated / 8 (1..15), the first segment starts right after the header,
 * offsets increase and lie inside the fragment, and every segment's PackBits stream decodes to
 * exactly Rows × Columns bytes (a run that crosses that count, or a stream that ends before it,
 * is corrupt). Trailing padding after a complete segment is allowed. Throws Error with a
 * value-free cause; returns nothing (the codec decodes a frame that passed).
 */
const HEADER_BYTES = 64;

/** Bytes one PackBits segment [start, end) decodes to, stopping with an error on a structural fault. */
function segmentLength(data: Uint8Array, start: number, end: number, expected: number, index: number): void {
  let out = 0;
  let pos = start;
  while (out < expected) {
    if (pos >= end) throw new Error(`RLE segment ${index + 1} ends after ${out} of ${expected} bytes`);
    const n = data[pos++]!;
    if (n < 128) {
      const count = n + 1;
      if (pos + count > end) throw new Error(`RLE segment ${index + 1}: a literal run reads past the segment`);
      pos += count;
      out += count;
    } else if (n > 128) {
      if (pos >= end) throw new Error(`RLE segment ${index + 1}: a repeat run reads past the segment`);
      pos++;
      out += 257 - n;
    }
    // n === 128: no operation
  }
  if (out !== expected) throw new Error(`RLE segment ${index + 1} decodes to ${out} bytes, expected ${expected}`);
}

export function checkRleFrame(data: Uint8Array, rows: number, columns: number, samplesPerPixel: number, bitsAllocated: number): void {
  if (data.length < HEADER_BYTES) throw new Error(`RLE frame of ${data.length} bytes is shorter than its 64-byte header`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const segments = view.getUint32(0, true);
  const wanted = samplesPerPixel * (bitsAllocated / 8);
  if (segments < 1 || segments > 15) throw new Error(`RLE header declares ${segments} segments (1 to 15 allowed)`);
  if (segments !== wanted) throw new Error(`RLE header declares ${segments} segments; SamplesPerPixel × BitsAllocated / 8 needs ${wanted}`);
  const offsets: number[] = [];
  for (let i = 0; i < segments; i++) offsets.push(view.getUint32(4 + 4 * i, true));
  for (let i = segments; i < 15; i++) {
    if (view.getUint32(4 + 4 * i, true) !== 0) throw new Error(`RLE header has an offset for segment ${i + 1} beyond its ${segments} segments`);
  }
  if (offsets[0] !== HEADER_BYTES) throw new Error(`RLE segment 1 starts at byte ${offsets[0]}, not right after the 64-byte header`);
  for (let i = 0; i < segments; i++) {
    const start = offsets[i]!;
    const end = i + 1 < segments ? offsets[i + 1]! : data.length;
    if (start >= data.length) throw new Error(`RLE segment ${i + 1} starts at byte ${start}, past the end of the ${data.length}-byte fragment`);
    if (end <= start) throw new Error(`RLE segment offsets are not increasing (segment ${i + 2})`);
    segmentLength(data, start, end, rows * columns, i);
  }
}

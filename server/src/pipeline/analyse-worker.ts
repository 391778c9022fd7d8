/**
 * Worker thread: decode + preprocess (or decode for the viewer) (the CPU-heavy, synchronous part of the pipeline), so the
 * daemon's event loop stays free — a JPEG 2000 frame takes hundreds of ms to decode — and
 * decoding the next images overlaps generation of the current one.
 */
import { parentPort } from "node:worker_threads";
import sharp from "sharp";
import { decodeImage, downscale, toGrayBytes } from "./decode/index.js";
import { preprocess } from "./preprocess.js";
import type { PreprocessRequest, PreprocessResponse } from "./analyse-pool.js";
import type { DecodedImage } from "./decode/index.js";

/** The image as the viewer shows it by default (VOI window), 8-bit grey PNG, no metadata at all. */
async function windowedPng(decoded: DecodedImage, maxSize: number): Promise<Uint8Array> {
  const grey = toGrayBytes(downscale(decoded, maxSize), decoded.window);
  return new Uint8Array(await sharp(grey.data, { raw: { width: grey.width, height: grey.height, channels: 1 } }).toColourspace("b-w").png().toBuffer());
}

parentPort!.on("message", async (m: PreprocessRequest) => {
  const t = performance.now();
  try {
    const decoded = await decodeImage(m.image, { allowedRoots: m.allowedRoots });
    if (m.input || m.png) {
      const tensor = m.input ? preprocess(toGrayBytes(decoded), m.input) : undefined;
      const png = m.png ? await windowedPng(decoded, m.png) : undefined;
      const reply: PreprocessResponse = { id: m.id, ok: true, info: decoded.info, ...(tensor ? { tensor } : {}), ...(png ? { png } : {}), decodeMs: performance.now() - t };
      parentPort!.postMessage(reply, [...(tensor ? [tensor.buffer as ArrayBuffer] : []), ...(png ? [png.buffer as ArrayBuffer] : [])]);
    } else {
      // The viewer's request: 16-bit pixels, downscaled when asked.
      const image = m.maxSize ? downscale(decoded, m.maxSize) : decoded;
      const reply: PreprocessResponse = { id: m.id, ok: true, info: decoded.info, image, decodeMs: performance.now() - t };
      // Copied, not transferred: the pixels may be a view into the file's buffer.
      parentPort!.postMessage(reply);
    }
  } catch (e) {
    const err = e as Error & { kind?: string; file?: string };
    const reply: PreprocessResponse = { id: m.id, ok: false, error: { kind: err.kind, message: err.message ?? String(e), file: err.file } };
    parentPort!.postMessage(reply);
  }
});

/**
 * Decodes one compressed DICOM frame with the dcmjs-codecs WebAssembly codecs (libjpeg-turbo /
 * IJG for JPEG incl. 12-bit and lossless, CharLS for JPEG-LS, OpenJPEG for JPEG 2000, OpenJPH
 * for HTJ2K, and an RLE decoder). The module is initialized once per process, offline, from the
 * .wasm file shipped in the package.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { CodecName } from "./dicom-syntax.js";

const require = createRequire(import.meta.url);
type Codecs = typeof import("dcmjs-codecs");

let ready: Promise<Codecs> | undefined;

function codecs(): Promise<Codecs> {
  ready ??= (async () => {
    const mod = require("dcmjs-codecs") as Codecs;
    mod.log.setLevel("silent");
    if (!mod.NativeCodecs.isInitialized()) {
      const wasm = join(dirname(require.resolve("dcmjs-codecs")), "dcmjs-native-codecs.wasm");
      await mod.NativeCodecs.initializeAsync({ webAssemblyModulePathOrUrl: wasm });
    }
    return mod;
  })();
  return ready;
}

export interface FrameFormat {
  width: number;
  height: number;
  bitsAllocated: number;
  bitsStored: number;
  samplesPerPixel: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  photometric: string;
}

export interface DecodedFrame {
  data: Uint8Array;
  /** As the codec reports them for the decoded samples (JPEG leaves YBR as YBR). */
  photometric: string;
  planarConfiguration: number;
}

export async function decodeFrame(codec: CodecName, encoded: Uint8Array, format: FrameFormat): Promise<DecodedFrame> {
  const { Context, NativeCodecs } = await codecs();
  const context = new Context({
    width: format.width,
    height: format.height,
    bitsAllocated: format.bitsAllocated,
    bitsStored: format.bitsStored,
    samplesPerPixel: format.samplesPerPixel,
    pixelRepresentation: format.pixelRepresentation,
    planarConfiguration: format.planarConfiguration,
    photometricInterpretation: format.photometric,
    encodedBuffer: encoded,
  });
  const decoders: Record<CodecName, () => InstanceType<Codecs["Context"]>> = {
    jpeg: () => NativeCodecs.decodeJpeg(context, { convertColorspaceToRgb: false }),
    "jpeg-ls": () => NativeCodecs.decodeJpegLs(context),
    "jpeg-2000": () => NativeCodecs.decodeJpeg2000(context),
    "ht-jpeg-2000": () => NativeCodecs.decodeHtJpeg2000(context),
    rle: () => NativeCodecs.decodeRle(context),
  };
  const result = decoders[codec]();
  const data = result.getDecodedBuffer();
  if (!data || data.length === 0) throw new Error("the codec returned no pixels");
  return {
    data,
    photometric: result.getPhotometricInterpretation() ?? format.photometric,
    planarConfiguration: result.getPlanarConfiguration() ?? format.planarConfiguration,
  };
}

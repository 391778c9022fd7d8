/**
 * Test fixtures: synthetic images and real DICOM files. An uncompressed Explicit VR Little Endian
 * Part 10 file is written with dcmjs from synthetic stored samples; every other transfer syntax
 * is made from it by the real tools: dcmtk (dcmconv, dcmcjpeg, dcmcjpls, dcmcrle), GDCM
 * (gdcmconv for JPEG 2000) and the dcmjs-codecs encoder (HTJ2K, which neither tool writes).
 * Tests skip, with `missingTools(...)` as the reason, where those tools are not installed
 * (`apt-get install dcmtk libgdcm-tools`).
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";

const require = createRequire(import.meta.url);

/** Patient data put in every fixture; tests assert it never leaks into info or errors. */
export const FIXTURE_PHI = {
  PatientName: "DOE^JANE",
  PatientID: "PHI-123456",
  PatientBirthDate: "19700101",
  PatientSex: "F",
  AccessionNumber: "ACC778899",
  InstitutionName: "ST ELSEWHERE HOSPITAL",
  ReferringPhysicianName: "HOUSE^GREGORY",
  StudyID: "STUDY4242",
} as const;

/** A fresh temp folder for one test file's fixtures, and its removal. */
export function fixtureDir(): { dir: string; at(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "xraygpt-decode-"));
  return { dir, at: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The decode stage's documented grey scale, written out independently for the tests: a stored
 * value s of a `bits`-bit (signed or not) image maps linearly from its possible range onto
 * 0..65535 (rescale slope > 0 does not change it), inverted for MONOCHROME1.
 */
export function expectedGrey(stored: ArrayLike<number>, bits: number, signed = false, invert = false): Uint16Array {
  const lo = signed ? -(2 ** (bits - 1)) : 0;
  const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const out = new Uint16Array(stored.length);
  for (let i = 0; i < stored.length; i++) {
    const p = Math.round(((stored[i]! - lo) / (hi - lo)) * 65535);
    out[i] = invert ? 65535 - p : p;
  }
  return out;
}

/** A 64×48-ish grey test pattern with gradients, a bright block, a dark ring and fine stripes. */
export function syntheticGrey(width: number, height: number, maxValue: number): Uint16Array {
  const out = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = (x / (width - 1)) * 0.6 + (y / (height - 1)) * 0.3;
      if (x > width / 4 && x < width / 2 && y > height / 4 && y < height / 2) v += 0.25;
      const r = Math.hypot(x - width * 0.7, y - height * 0.6);
      if (r > height * 0.15 && r < height * 0.22) v *= 0.3;
      if (y > height * 0.8 && x % 2 === 0) v = 1 - v;
      out[y * width + x] = Math.round(Math.min(1, Math.max(0, v)) * maxValue);
    }
  }
  return out;
}

/** An interleaved 8-bit RGB test pattern. */
export function syntheticRgb(width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      out[i] = Math.round((x / (width - 1)) * 255);
      out[i + 1] = Math.round((y / (height - 1)) * 255);
      out[i + 2] = (x * 7 + y * 13) % 256;
    }
  }
  return out;
}

export interface DicomFixture {
  width: number;
  height: number;
  /** Stored words exactly as written (all frames, interleaved or planar as configured). */
  pixels: Uint8Array | Uint16Array;
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  highBit?: number;
  pixelRepresentation?: 0 | 1;
  samplesPerPixel?: 1 | 3;
  planarConfiguration?: 0 | 1;
  photometric?: string;
  frames?: number;
  rescaleSlope?: number;
  rescaleIntercept?: number;
  windowCenter?: number[];
  windowWidth?: number[];
  /** Extra data elements by dcmjs keyword (e.g. Modality, ViewPosition, ImageLaterality). */
  extra?: Record<string, unknown>;
  /** Leave out the Pixel Data element (a DICOM file that is not an image). */
  omitPixelData?: boolean;
}

interface DcmjsData {
  DicomDict: new (meta: unknown) => { dict: unknown; write(): ArrayBuffer };
  DicomMetaDictionary: { denaturalizeDataset(ds: Record<string, unknown>): unknown; uid(): string };
}

/** Writes an uncompressed Explicit VR Little Endian Part 10 file with FIXTURE_PHI in it. */
export function writeDicom(path: string, f: DicomFixture): void {
  const { DicomDict, DicomMetaDictionary } = (require("dcmjs") as { data: DcmjsData }).data;
  const bitsAllocated = f.bitsAllocated ?? (f.pixels instanceof Uint8Array ? 8 : 16);
  const bitsStored = f.bitsStored ?? bitsAllocated;
  const samples = f.samplesPerPixel ?? 1;
  const sopInstance = DicomMetaDictionary.uid();
  const sopClass = samples === 3 ? "1.2.840.10008.5.1.4.1.1.7" : "1.2.840.10008.5.1.4.1.1.1.1";
  const bytes = new Uint8Array(f.pixels.buffer, f.pixels.byteOffset, f.pixels.byteLength).slice();
  const dataset: Record<string, unknown> = {
    _vrMap: { PixelData: bitsAllocated === 8 ? "OB" : "OW" },
    SOPClassUID: sopClass,
    SOPInstanceUID: sopInstance,
    StudyInstanceUID: DicomMetaDictionary.uid(),
    SeriesInstanceUID: DicomMetaDictionary.uid(),
    StudyDate: "20240102",
    ...FIXTURE_PHI,
    Modality: "DX",
    Rows: f.height,
    Columns: f.width,
    BitsAllocated: bitsAllocated,
    BitsStored: bitsStored,
    HighBit: f.highBit ?? bitsStored - 1,
    PixelRepresentation: f.pixelRepresentation ?? 0,
    SamplesPerPixel: samples,
    PhotometricInterpretation: f.photometric ?? (samples === 3 ? "RGB" : "MONOCHROME2"),
    ...(samples === 3 ? { PlanarConfiguration: f.planarConfiguration ?? 0 } : {}),
    ...(f.frames !== undefined ? { NumberOfFrames: String(f.frames) } : {}),
    ...(f.rescaleSlope !== undefined ? { RescaleSlope: String(f.rescaleSlope) } : {}),
    ...(f.rescaleIntercept !== undefined ? { RescaleIntercept: String(f.rescaleIntercept) } : {}),
    ...(f.windowCenter ? { WindowCenter: f.windowCenter.map(String) } : {}),
    ...(f.windowWidth ? { WindowWidth: f.windowWidth.map(String) } : {}),
    ...f.extra,
    ...(f.omitPixelData ? {} : { PixelData: [bytes.buffer] }),
  };
  const meta = {
    MediaStorageSOPClassUID: sopClass,
    MediaStorageSOPInstanceUID: sopInstance,
    TransferSyntaxUID: "1.2.840.10008.1.2.1",
    ImplementationClassUID: "1.2.826.0.1.3680043.10.1000.1",
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  writeFileSync(path, new Uint8Array(dict.write()));
}

/** How each fixture syntax is made: [tool, args before the file names], or a special maker. */
const MAKERS = {
  implicit: ["dcmconv", ["+ti"]],
  "big-endian": ["dcmconv", ["+tb"]],
  deflated: ["dcmconv", ["+td"]],
  "raw-dataset": ["dcmconv", ["-F", "+ti"]],
  "jpeg-baseline": ["dcmcjpeg", ["+eb"]],
  "jpeg-baseline-444": ["dcmcjpeg", ["+eb", "+s4"]],
  "jpeg-extended": ["dcmcjpeg", ["+ee"]],
  "jpeg-lossless": ["dcmcjpeg", ["+el", "+sv", "2"]],
  "jpeg-lossless-sv1": ["dcmcjpeg", ["+e1"]],
  "jpeg-ls": ["dcmcjpls", ["+el"]],
  "jpeg-ls-near": ["dcmcjpls", ["+en", "+md", "2"]],
  rle: ["dcmcrle", []],
  j2k: ["gdcmconv", ["--j2k"]],
  "j2k-lossy": ["gdcmconv", ["--j2k", "--lossy", "--irreversible", "-q", "80"]],
} as const satisfies Record<string, readonly [string, readonly string[]]>;

/** "explicit" is the dcmjs-written file itself; "no-preamble" drops its 128-byte preamble. */
export type FixtureSyntax = keyof typeof MAKERS | "explicit" | "htj2k" | "htj2k-lossy" | "no-preamble";

/** The transfer syntax UID each fixture syntax yields ("" where the file has no meta header). */
export const FIXTURE_UIDS: Record<FixtureSyntax, string> = {
  implicit: "1.2.840.10008.1.2",
  explicit: "1.2.840.10008.1.2.1",
  "big-endian": "1.2.840.10008.1.2.2",
  deflated: "1.2.840.10008.1.2.1.99",
  "raw-dataset": "1.2.840.10008.1.2",
  "no-preamble": "1.2.840.10008.1.2.1",
  "jpeg-baseline": "1.2.840.10008.1.2.4.50",
  "jpeg-baseline-444": "1.2.840.10008.1.2.4.50",
  "jpeg-extended": "1.2.840.10008.1.2.4.51",
  "jpeg-lossless": "1.2.840.10008.1.2.4.57",
  "jpeg-lossless-sv1": "1.2.840.10008.1.2.4.70",
  "jpeg-ls": "1.2.840.10008.1.2.4.80",
  "jpeg-ls-near": "1.2.840.10008.1.2.4.81",
  rle: "1.2.840.10008.1.2.5",
  j2k: "1.2.840.10008.1.2.4.90",
  "j2k-lossy": "1.2.840.10008.1.2.4.91",
  htj2k: "1.2.840.10008.1.2.4.201",
  "htj2k-lossy": "1.2.840.10008.1.2.4.203",
};

function onPath(tool: string): boolean {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/** The tool a fixture syntax needs (undefined: made in-process). */
export function toolFor(syntax: FixtureSyntax): string | undefined {
  return syntax in MAKERS ? MAKERS[syntax as keyof typeof MAKERS][0] : undefined;
}

/** A skip reason naming the missing tools, or false when all are installed. */
export function missingTools(...syntaxes: FixtureSyntax[]): string | false {
  const tools = [...new Set(syntaxes.map(toolFor).filter((t): t is string => t !== undefined))];
  const missing = tools.filter((t) => !onPath(t));
  if (missing.length === 0) return false;
  return `needs ${missing.join(", ")} (apt-get install dcmtk libgdcm-tools) to make DICOM fixtures`;
}

async function transcodeHtj2k(src: string, dst: string, lossy: boolean): Promise<void> {
  type Codecs = typeof import("dcmjs-codecs");
  const mod = require("dcmjs-codecs") as Codecs;
  mod.log.setLevel("silent");
  if (!mod.NativeCodecs.isInitialized()) {
    await mod.NativeCodecs.initializeAsync({
      webAssemblyModulePathOrUrl: join(dirname(require.resolve("dcmjs-codecs")), "dcmjs-native-codecs.wasm"),
    });
  }
  const bytes = readFileSync(src);
  const transcoder = new mod.Transcoder(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const { TransferSyntax } = mod.constants;
  transcoder.transcode(lossy ? TransferSyntax.HtJpeg2000Lossy : TransferSyntax.HtJpeg2000Lossless);
  writeFileSync(dst, new Uint8Array(transcoder.getDicomPart10()));
}

/** Converts the uncompressed fixture `src` into `dst` in the given syntax with the real tools. */
export async function convertDicom(src: string, dst: string, syntax: FixtureSyntax): Promise<void> {
  if (syntax === "htj2k" || syntax === "htj2k-lossy") return transcodeHtj2k(src, dst, syntax === "htj2k-lossy");
  if (syntax === "explicit" || syntax === "no-preamble") {
    writeFileSync(dst, readFileSync(src).subarray(syntax === "explicit" ? 0 : 128));
    return;
  }
  const [tool, args] = MAKERS[syntax];
  try {
    execFileSync(tool, [...args, src, dst], { stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`${tool} ${args.join(" ")} failed: ${err.stderr?.toString().trim() || err.message}`);
  }
}

/**
 * DICOM transfer syntaxes: which ones the decode stage reads and how (native layout, or which
 * dcmjs-codecs WebAssembly codec decodes the encapsulated frames).
 */
export type CodecName = "jpeg" | "jpeg-ls" | "jpeg-2000" | "ht-jpeg-2000" | "rle";

export interface TransferSyntax {
  uid: string;
  name: string;
  /** Set for compressed (encapsulated) syntaxes. */
  codec?: CodecName;
  bigEndian?: boolean;
}

const SUPPORTED: TransferSyntax[] = [
  { uid: "1.2.840.10008.1.2", name: "Implicit VR Little Endian" },
  { uid: "1.2.840.10008.1.2.1", name: "Explicit VR Little Endian" },
  { uid: "1.2.840.10008.1.2.1.99", name: "Deflated Explicit VR Little Endian" },
  { uid: "1.2.840.10008.1.2.2", name: "Explicit VR Big Endian", bigEndian: true },
  { uid: "1.2.840.10008.1.2.4.50", name: "JPEG Baseline", codec: "jpeg" },
  { uid: "1.2.840.10008.1.2.4.51", name: "JPEG Extended", codec: "jpeg" },
  { uid: "1.2.840.10008.1.2.4.57", name: "JPEG Lossless", codec: "jpeg" },
  { uid: "1.2.840.10008.1.2.4.70", name: "JPEG Lossless SV1", codec: "jpeg" },
  { uid: "1.2.840.10008.1.2.4.80", name: "JPEG-LS Lossless", codec: "jpeg-ls" },
  { uid: "1.2.840.10008.1.2.4.81", name: "JPEG-LS Near-Lossless", codec: "jpeg-ls" },
  { uid: "1.2.840.10008.1.2.4.90", name: "JPEG 2000 Lossless", codec: "jpeg-2000" },
  { uid: "1.2.840.10008.1.2.4.91", name: "JPEG 2000", codec: "jpeg-2000" },
  { uid: "1.2.840.10008.1.2.4.201", name: "HTJ2K Lossless", codec: "ht-jpeg-2000" },
  { uid: "1.2.840.10008.1.2.4.202", name: "HTJ2K Lossless RPCL", codec: "ht-jpeg-2000" },
  { uid: "1.2.840.10008.1.2.4.203", name: "HTJ2K", codec: "ht-jpeg-2000" },
  { uid: "1.2.840.10008.1.2.5", name: "RLE Lossless", codec: "rle" },
];

/** Names of known syntaxes that are not read, for the error message. */
const UNSUPPORTED_NAMES: Record<string, string> = {
  "1.2.840.10008.1.2.4.94": "JPIP Referenced",
  "1.2.840.10008.1.2.4.95": "JPIP Referenced Deflate",
  "1.2.840.10008.1.2.4.100": "MPEG2 Main Profile",
  "1.2.840.10008.1.2.4.101": "MPEG2 High Profile",
  "1.2.840.10008.1.2.4.102": "MPEG-4 AVC/H.264",
  "1.2.840.10008.1.2.4.103": "MPEG-4 AVC/H.264 BD",
  "1.2.840.10008.1.2.4.104": "MPEG-4 AVC/H.264 2D",
  "1.2.840.10008.1.2.4.105": "MPEG-4 AVC/H.264 3D",
  "1.2.840.10008.1.2.4.106": "MPEG-4 AVC/H.264 Stereo",
  "1.2.840.10008.1.2.4.107": "HEVC/H.265 Main",
  "1.2.840.10008.1.2.4.108": "HEVC/H.265 Main 10",
  "1.2.840.10008.1.2.4.110": "JPEG XL Lossless",
  "1.2.840.10008.1.2.4.111": "JPEG XL JPEG Recompression",
  "1.2.840.10008.1.2.4.112": "JPEG XL",
};

const BY_UID = new Map(SUPPORTED.map((s) => [s.uid, s]));

export function transferSyntax(uid: string): TransferSyntax | undefined {
  return BY_UID.get(uid);
}

/** "unsupported transfer syntax 1.2.840.10008.1.2.4.100 (MPEG2 Main Profile)". */
export function unsupportedSyntaxCause(uid: string): string {
  const safeUid = /^[0-9.]{1,64}$/.test(uid) ? uid : "(malformed UID)";
  const name = UNSUPPORTED_NAMES[uid];
  return `unsupported transfer syntax ${safeUid}${name ? ` (${name})` : ""}`;
}

export const SUPPORTED_TRANSFER_SYNTAXES: readonly TransferSyntax[] = SUPPORTED;

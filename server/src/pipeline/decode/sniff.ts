/** Recognizes an image container from its first bytes (never from the file name). */
export type SniffedFormat = "png" | "jpeg" | "webp" | "tiff" | "gif" | "dicom" | "dicom-no-preamble" | "dicom-raw";

function ascii(bytes: Uint8Array, at: number, length: number): string {
  if (bytes.length < at + length) return "";
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

/**
 * A DICOM data set without a file meta header starts with an element of a low, even group
 * (0008 in practice; 0002..0028 accepted) in little-endian order; anything else is not DICOM.
 */
function looksLikeRawDataset(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  const group = bytes[0]! | (bytes[1]! << 8);
  return group >= 0x0002 && group <= 0x0028 && group % 2 === 0;
}

export function sniffFormat(bytes: Uint8Array): SniffedFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && ascii(bytes, 1, 3) === "PNG") return "png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") return "webp";
  const tiff = ascii(bytes, 0, 4);
  if (tiff === "II*\0" || tiff === "MM\0*") return "tiff";
  if (ascii(bytes, 0, 4) === "GIF8") return "gif";
  if (ascii(bytes, 128, 4) === "DICM") return "dicom";
  if (ascii(bytes, 0, 4) === "DICM") return "dicom-no-preamble";
  if (looksLikeRawDataset(bytes)) return "dicom-raw";
  return undefined;
}

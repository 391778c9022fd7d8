import type { DicomTag, ImageInfo } from "@xraygpt/protocol";
import type { ModalityRange, Window } from "./pixel-scale.js";

/** A decoded image in the decode stage's 16-bit grey scale (see pixel-scale.ts). */
export interface DecodedImage {
  /** Technical metadata only; never patient-identifying data. Describes the source image. */
  info: ImageInfo;
  /** Size of `pixels` (smaller than info's after `downscale`). */
  width: number;
  height: number;
  /**
   * Grey 0..65535, row-major, after Modality LUT, signed handling, BitsStored masking and
   * MONOCHROME1 inversion (higher = brighter); colour images become luma. May be a view into a
   * larger buffer: mind `byteOffset` when reading `pixels.buffer`.
   */
  pixels: Uint16Array;
  /** Default VOI window in the same 0..65535 scale (full range when the file has none). */
  window: Window;
  /** DICOM modality values that pixel 0 and 65535 stand for (before MONOCHROME1 inversion). */
  modalityRange?: ModalityRange;
  /** DICOM tags for the viewer, patient-identifying ones flagged; empty for other formats. */
  tags: DicomTag[];
}

/**
 * The one error type of the decode stage. Its message names the file (as the caller gave it) and
 * the cause; it never carries DICOM content (patient data stays out of errors and logs).
 */
export type ImageErrorKind = "BadImage" | "PathNotAllowed";

export class ImageError extends Error {
  readonly kind: ImageErrorKind;
  readonly file: string;

  constructor(file: string, cause: string, kind: ImageErrorKind = "BadImage") {
    super(`${file}: ${cause}`);
    this.name = "ImageError";
    this.kind = kind;
    this.file = file;
  }
}

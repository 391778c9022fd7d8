/**
 * Where a radiograph's report lives and how a report names its image. Shared by the daemon's
 * report features and the editor extension. Paths are absolute, platform separators; the image
 * field of a report is relative to the report's folder with "/" separators.
 */
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

export const REPORT_SUFFIX = ".report.md";

export function isReportPath(path: string): boolean {
  return path.endsWith(REPORT_SUFFIX);
}

/**
 * `<image>.report.md` beside the image, or `<reportsFolder>/<image file name>.report.md` when a
 * reports folder is set (relative folders resolve against `workspaceRoot`, else the image's folder).
 */
export function reportPathFor(image: string, reportsFolder?: string, workspaceRoot?: string): string {
  const name = basename(image) + REPORT_SUFFIX;
  if (!reportsFolder) return join(dirname(image), name);
  const folder = isAbsolute(reportsFolder) ? reportsFolder : resolve(workspaceRoot ?? dirname(image), reportsFolder);
  return join(folder, name);
}

/** The image field for a report at `reportPath` (relative, "/" separators). */
export function imageFieldFor(reportPath: string, image: string): string {
  return relative(dirname(reportPath), image).split(sep).join("/");
}

/** The absolute image path named by a report's image field. */
export function resolveImageField(reportPath: string, field: string): string {
  return isAbsolute(field) ? field : resolve(dirname(reportPath), ...field.split("/"));
}

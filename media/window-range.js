// The viewer's window/level in the image's own units, and how a drag moves it. Pure functions
// (viewer.js uses them; client/src/webview/window-range.test.ts tests them under Node).
//
// The daemon sends pixels in a 0..65535 scale (higher = brighter) that spans the image's whole
// value range linearly: for a DICOM image its modality range (e.g. HU; reversed for MONOCHROME1,
// where brighter is lower), for other formats the stored range 0..2^bits−1 (an 8-bit PNG: 0..255).
// Windows are kept in the scale and shown in those units.

export const SCALE_MAX = 65535;

/** The image values that scale 0 (`lo`) and 65535 (`hi`) stand for. */
export function imageRange(info, range) {
  if (range && Number.isFinite(range.min) && Number.isFinite(range.max) && range.max > range.min) {
    return info && info.photometric === "MONOCHROME1" ? { lo: range.max, hi: range.min } : { lo: range.min, hi: range.max };
  }
  const bits = info && Number.isInteger(info.bitsStored) && info.bitsStored >= 1 && info.bitsStored <= 16 ? info.bitsStored : 16;
  return { lo: 0, hi: 2 ** bits - 1 };
}

/** A window of the scale ({center, width}) in the image's units. */
export function toImageUnits(w, r) {
  const k = (r.hi - r.lo) / SCALE_MAX;
  return { center: r.lo + w.center * k, width: Math.abs(k) * w.width };
}

/** "C 128 / W 255": whole units, or tenths where the whole range is under 100 units. */
export function formatWindow(w, r) {
  const u = toImageUnits(w, r);
  const digits = Math.abs(r.hi - r.lo) < 100 ? 1 : 0;
  const f = (v) => (Object.is(Number(v.toFixed(digits)), -0) ? 0 : v).toFixed(digits);
  return `C ${f(u.center)} / W ${f(u.width)}`;
}

/** The window kept sensible: center inside the range, width from one image unit to twice the range. */
export function clampWindow(w, r) {
  const unit = SCALE_MAX / Math.max(1, Math.abs(r.hi - r.lo));
  return {
    center: Math.min(SCALE_MAX, Math.max(0, w.center)),
    width: Math.min(2 * SCALE_MAX, Math.max(Math.min(unit, SCALE_MAX), w.width)),
  };
}

/**
 * The window after dragging (dx, dy) pixels from `start` on a stage of `size` {width, height}:
 * right widens, left narrows (a full-width drag moves the width by the full range), down raises
 * the center (a full-height drag moves it by the full range). Sensitivity does not depend on the
 * current window, so a drag is undone by dragging back.
 */
export function dragWindow(start, dx, dy, size, r) {
  const kx = SCALE_MAX / Math.max(1, size.width);
  const ky = SCALE_MAX / Math.max(1, size.height);
  return clampWindow({ center: start.center + dy * ky, width: start.width + dx * kx }, r);
}

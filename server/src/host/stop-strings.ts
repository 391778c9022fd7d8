/**
 * Stop strings in streamed text: finds a complete stop string, and how much of the text can be
 * released safely (not a possible start of a stop string).
 */
export interface StopScan {
  /** Index where a stop string starts, or -1. */
  stopAt: number;
  /** Text up to this index can be emitted now. */
  safeEnd: number;
}

export function scanStops(text: string, stops: readonly string[]): StopScan {
  let stopAt = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (stopAt < 0 || i < stopAt)) stopAt = i;
  }
  if (stopAt >= 0) return { stopAt, safeEnd: stopAt };
  let safeEnd = text.length;
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, text.length); k > 0; k--) {
      if (text.endsWith(s.slice(0, k))) {
        safeEnd = Math.min(safeEnd, text.length - k);
        break;
      }
    }
  }
  return { stopAt, safeEnd };
}

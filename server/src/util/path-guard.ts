/**
 * The one path guard: every path a request or command names (images, image lists, annotation
 * logs, review logs, evaluation inputs and outputs) is resolved with realpath — symlinks and
 * `..` followed — and must then lie inside one of the allowed roots. A path that does not exist
 * yet (an output) is judged by the real path of its deepest existing ancestor plus the rest, so
 * `ws/link-to-outside/x` and `ws/../outside/x` are both refused. No roots means unrestricted
 * (the CLI: the user named the path on their own command line).
 */
import { realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, relative, resolve } from "node:path";

export class PathNotAllowedError extends Error {
  override name = "PathNotAllowedError";
  readonly kind = "PathNotAllowed" as const;
  constructor(readonly file: string) {
    super(`${file}: path is outside the allowed folders`);
  }
}

function inside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * The real path of `path`; for a missing path, the real path of its deepest existing ancestor
 * joined with the missing rest (`..` in the rest is resolved lexically from there).
 */
export function realOrResolved(path: string): string {
  const abs = resolve(path);
  const rest: string[] = [];
  let at = abs;
  for (;;) {
    try {
      return resolve(realpathSync(at), ...rest.reverse());
    } catch {
      const parent = dirname(at);
      if (parent === at) return abs;
      rest.push(basename(at));
      at = parent;
    }
  }
}

/** The real paths of the roots (computed once per guard). */
function realRoots(roots: readonly string[]): string[] {
  return roots.map((r) => realOrResolved(r));
}

/** A guard over fixed roots; `undefined` roots allow everything. */
export class PathGuard {
  /** The roots as given (undefined: unrestricted). */
  readonly roots: readonly string[] | undefined;
  private readonly real: string[] | undefined;

  constructor(roots?: readonly string[]) {
    this.roots = roots;
    this.real = roots ? realRoots(roots) : undefined;
  }

  /** The absolute, real path of `path` when allowed; throws PathNotAllowedError naming `path` otherwise. */
  check(path: string): string {
    const target = realOrResolved(path);
    if (this.real && !this.real.some((root) => inside(root, target))) throw new PathNotAllowedError(path);
    return target;
  }
}

/** One-shot form: `checkPath(path, roots)`. */
export function checkPath(path: string, roots?: readonly string[]): string {
  return new PathGuard(roots).check(path);
}

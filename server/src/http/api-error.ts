/** OpenAI-shaped errors: HTTP status + `{error: {message, type, code}}`. */
import { describeError } from "../engine/errors.js";

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 405 | 413 | 429 | 500,
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
  }

  get type(): string {
    return { 400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error", 405: "invalid_request_error", 413: "invalid_request_error", 429: "rate_limit_error", 500: "server_error" }[this.status];
  }

  body(): { error: { message: string; type: string; code: string | null } } {
    return { error: { message: this.message, type: this.type, code: this.code } };
  }
}

/** An engine error as the API reports it: the caller's mistakes are 400, the rest 500. */
export function apiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const { kind, message } = describeError(e);
  switch (kind) {
    case "InvalidParams":
      return new ApiError(400, message, "invalid_value");
    case "BadImage":
      return new ApiError(400, message, "invalid_image");
    case "PathNotAllowed":
      return new ApiError(400, message, "path_not_allowed");
    case "UnknownSession":
      return new ApiError(400, message, "unknown_session");
    default:
      return new ApiError(500, message, kind === "ModelUnavailable" ? "model_unavailable" : kind === "ModelCrashed" ? "model_crashed" : "internal_error");
  }
}

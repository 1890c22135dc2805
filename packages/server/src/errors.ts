/**
 * API errors in OpenAI's shape — `{ "error": { "message", "type", "code" } }` with the HTTP status that fits — and
 * the mapping from the library's typed errors (their `code`) to it.
 */

export type ApiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "server_error"
  | "timeout_error";

export class ApiError extends Error {
  readonly status: number;
  readonly type: ApiErrorType;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    type: ApiErrorType,
    code: string,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.type = type;
    this.code = code;
    this.headers = options.headers ?? {};
  }

  toJSON(): { error: { message: string; type: ApiErrorType; code: string } } {
    return { error: { message: this.message, type: this.type, code: this.code } };
  }
}

export const invalidRequest = (message: string, code = "invalid_request", cause?: unknown) =>
  new ApiError(400, "invalid_request_error", code, message, { cause });

export const notFound = (message: string, code = "not_found") => new ApiError(404, "not_found_error", code, message);

/** The library's error codes that are the client's doing. */
const CLIENT_CODES: Record<string, [number, string]> = {
  ERR_INVALID_ARGUMENT: [400, "invalid_value"],
  ERR_UNSUPPORTED_TASK: [400, "unsupported_task"],
  ERR_AUDIO_FORMAT: [400, "invalid_audio"],
  ERR_CODES_FORMAT: [400, "invalid_codes"],
  ERR_PHONEMIZE: [400, "invalid_text"],
};

/** Any error thrown while serving a request, as the ApiError to answer with. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === "string" && CLIENT_CODES[code]) {
    const [status, apiCode] = CLIENT_CODES[code];
    return new ApiError(status, "invalid_request_error", apiCode, message, { cause: error });
  }
  if (code === "ERR_CANCELLED")
    return new ApiError(499, "invalid_request_error", "cancelled", message, { cause: error });
  if (code === "ERR_DISPOSED") {
    return new ApiError(503, "server_error", "shutting_down", "The server is shutting down", { cause: error });
  }
  return new ApiError(500, "server_error", "internal_error", message, { cause: error });
}

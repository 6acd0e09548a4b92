// Turning a failed backend response into something a form or page can show.

export type ApiErrorKind =
  | 'validation' // 422: field errors from FastAPI
  | 'unauthorized' // 401
  | 'not_found' // 404
  | 'conflict' // 409
  | 'rate_limited' // 429
  | 'client' // other 4xx
  | 'server' // 5xx
  | 'network'; // no response at all

export type FieldErrors = Record<string, string[]>;

export interface ValidationErrors {
  fieldErrors: FieldErrors;
  formErrors: string[];
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly kind: ApiErrorKind;
  readonly status: number | null;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly fieldErrors: FieldErrors;
  readonly formErrors: string[];
  readonly retryAfterSeconds: number | null;

  constructor(init: {
    kind: ApiErrorKind;
    status: number | null;
    requestId: string;
    method: string;
    path: string;
    message: string;
    validation?: ValidationErrors;
    retryAfterSeconds?: number | null;
  }) {
    super(init.message);
    this.kind = init.kind;
    this.status = init.status;
    this.requestId = init.requestId;
    this.method = init.method;
    this.path = init.path;
    this.fieldErrors = init.validation?.fieldErrors ?? {};
    this.formErrors = init.validation?.formErrors ?? [];
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
  }

  /** 5xx and network failures: shown with the request ID and sent to Sentry. */
  get isSupportCase(): boolean {
    return this.kind === 'server' || this.kind === 'network';
  }
}

export function kindForStatus(status: number): ApiErrorKind {
  if (status === 422) return 'validation';
  if (status === 401) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server';
  return 'client';
}

const LOC_ROOTS = new Set(['body', 'query', 'path', 'header', 'cookie']);

/** pydantic prefixes messages from custom validators with "Value error, ". */
function cleanMessage(msg: unknown): string {
  if (typeof msg !== 'string' || msg.trim() === '') return 'Invalid value';
  return msg.replace(/^(Value|Assertion) error, /, '');
}

/**
 * FastAPI 422 `{"detail": [{"loc": ["body", "email"], "msg": ...}]}` -> `{fieldErrors: {email: [...]}}`.
 * `loc` without a field (["body"], e.g. malformed JSON) and string details become form errors.
 */
export function mapValidationErrors(detail: unknown): ValidationErrors {
  const result: ValidationErrors = { fieldErrors: {}, formErrors: [] };
  if (typeof detail === 'string') {
    result.formErrors.push(detail);
    return result;
  }
  if (!Array.isArray(detail)) {
    result.formErrors.push('The request was not valid.');
    return result;
  }
  for (const item of detail) {
    if (typeof item !== 'object' || item === null) continue;
    const { loc, msg } = item as { loc?: unknown; msg?: unknown };
    const message = cleanMessage(msg);
    const parts = Array.isArray(loc) ? loc.filter((p) => typeof p === 'string' || typeof p === 'number') : [];
    const fieldParts = parts.length > 0 && LOC_ROOTS.has(String(parts[0])) ? parts.slice(1) : parts;
    if (fieldParts.length === 0) {
      result.formErrors.push(message);
      continue;
    }
    const field = fieldParts.map(String).join('.');
    (result.fieldErrors[field] ??= []).push(message);
  }
  if (result.formErrors.length === 0 && Object.keys(result.fieldErrors).length === 0) {
    result.formErrors.push('The request was not valid.');
  }
  return result;
}

/** Seconds from a Retry-After header (delta-seconds form only), else null. */
export function parseRetryAfter(value: string | null): number | null {
  if (!value) return null;
  const seconds = Number(value.trim());
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds) : null;
}

/** What to tell the user, by kind; the backend's own `detail` string wins for 4xx when it has one. */
export function userMessage(kind: ApiErrorKind, detail: unknown, retryAfterSeconds: number | null): string {
  const backendText = typeof detail === 'string' && detail.length <= 300 ? detail : null;
  switch (kind) {
    case 'validation':
      return 'Please correct the highlighted fields.';
    case 'unauthorized':
      return backendText ?? 'Please log in to continue.';
    case 'not_found':
      return backendText ?? 'Not found.';
    case 'conflict':
      return backendText ?? 'That conflicts with the current state.';
    case 'rate_limited':
      return retryAfterSeconds !== null
        ? `Too many attempts. Please wait ${retryAfterSeconds} s and try again.`
        : 'Too many attempts. Please wait a minute and try again.';
    case 'client':
      return backendText ?? 'The request was not accepted.';
    case 'server':
      return 'Something went wrong on our side.';
    case 'network':
      return 'We could not reach the server. Check your connection and try again.';
  }
}

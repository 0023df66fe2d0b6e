// Calls to the gateway: POST /api/<Service>/<Method> with JSON, and server-streaming methods as
// server-sent events. Errors carry the service's canonical code and message.

/** What the gateway says about a refused call: {code, message, field?, reason?, params?,
 *  request_id}. The field, reason and params are the service's machine-readable details
 *  (services/common/status.h); the message is English, for developers, and is shown only when
 *  nothing better is known (errors.ts phrases the rest). */
export interface ErrorBody {
  code?: string;
  message?: string;
  field?: string;
  reason?: string;
  params?: Record<string, string>;
  request_id?: string;
}

export class ApiError extends Error {
  readonly reason: string;
  readonly params: Record<string, string>;
  readonly requestId: string;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait before trying again (429 with Retry-After), if the server said. */
    readonly retryAfter?: number,
    /** The field the gateway named, if any. */
    readonly fieldName?: string,
    details: ErrorBody = {},
  ) {
    super(message);
    this.reason = details.reason ?? '';
    this.params = details.params ?? {};
    this.requestId = details.request_id ?? '';
  }

  /** No answer at all: the network or the gateway is down ("kan ikke nå serveren"). */
  get unreachable(): boolean {
    return this.status === 0 && (this.code === 'UNAVAILABLE' || this.code === 'UNREACHABLE');
  }

  /** The request field the service names ("expected_month"), if any. */
  get field(): string | undefined {
    if (this.fieldName) return this.fieldName;
    const match = /^([a-z_][a-z0-9_.]*): /.exec(this.message);
    return match ? match[1] : undefined;
  }

  /** The message without its leading field name. */
  get problem(): string {
    const field = this.field;
    return field && this.message.startsWith(`${field}: `) ? this.message.slice(field.length + 2) : this.message;
  }
}

/** Thrown (and handled once, in main.ts) when the session has ended. */
export let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler;
}

/** Calls whose 401 means "wrong credentials", not "the session ended". */
const SIGN_IN_PATHS = ['/api/login', '/api/setup-code', '/api/password'];

async function request<T>(path: string, body: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body ?? {}),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError(0, 'UNAVAILABLE', String(e));
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = (parsed ?? {}) as ErrorBody;
    const retry = Number(response.headers.get('Retry-After') ?? '');
    const apiError = new ApiError(
      response.status,
      error.code ?? 'UNKNOWN',
      error.message ?? text,
      Number.isFinite(retry) && retry > 0 ? retry : undefined,
      error.field,
      error,
    );
    if (response.status === 401 && !SIGN_IN_PATHS.includes(path)) onUnauthenticated();
    throw apiError;
  }
  return parsed as T;
}

/** Calls a unary method of a backend service. */
export function call<T>(service: 'CaseService' | 'ForecastService' | 'IdentityService', method: string, body: unknown = {}): Promise<T> {
  return request<T>(`/api/${service}/${method}`, body);
}

export function login<T>(jobCentre: string, staffCode: string, password: string): Promise<T> {
  return request<T>('/api/login', { job_centre: jobCentre, staff_code: staffCode, password });
}

export function logout(): Promise<unknown> {
  return request('/api/logout', {});
}

/** Ends every session of the signed-in person, on every device. */
export function logoutEverywhere(): Promise<{ sessions_ended: number }> {
  return request('/api/logout-everywhere', {});
}

/** First password from a one-time set-up code; signs in. */
export function redeemSetupCode<T>(jobCentre: string, staffCode: string, setupCode: string, newPassword: string): Promise<T> {
  return request<T>('/api/setup-code', { job_centre: jobCentre, staff_code: staffCode, setup_code: setupCode, new_password: newPassword });
}

export function changePassword(currentPassword: string, newPassword: string): Promise<unknown> {
  return request('/api/password', { current_password: currentPassword, new_password: newPassword });
}

export async function currentSession<T>(): Promise<T | undefined> {
  const response = await fetch('/api/session', { credentials: 'same-origin' });
  if (!response.ok) return undefined;
  return (await response.json()) as T;
}

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'failed';

/** Codes after which a stream is worth opening again (another replica, a restarted service). */
const TRANSIENT = ['UNAVAILABLE', 'CANCELLED', 'DEADLINE_EXCEEDED', 'ABORTED', 'INTERNAL', 'UNKNOWN'];

/**
 * Subscribes to a server-streaming method. `onMessage` gets every pushed message. When the
 * gateway stops (a final `shutdown` event), the connection drops, or the call fails for a
 * transient reason, it reconnects by itself (to any gateway replica), waiting a little longer
 * each time. Returns a function that ends the subscription.
 */
export function subscribe<T>(
  service: 'ForecastService',
  method: string,
  body: unknown,
  onMessage: (message: T) => void,
  onState: (state: StreamState, error?: ApiError) => void,
): () => void {
  const url = `/api/${service}/${method}/stream?json=${encodeURIComponent(JSON.stringify(body))}`;
  let source: EventSource | undefined;
  let stopped = false;
  let attempt = 0;
  let timer: number | undefined;

  const reconnect = () => {
    source?.close();
    source = undefined;
    if (stopped) return;
    onState('reconnecting');
    const delay = Math.min(10000, 500 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random());
    attempt++;
    timer = window.setTimeout(open, delay);
  };

  const open = () => {
    if (stopped) return;
    const current = new EventSource(url);
    source = current;
    onState(attempt === 0 ? 'connecting' : 'reconnecting');
    current.onmessage = (event) => {
      attempt = 0;
      onState('live');
      onMessage(JSON.parse(event.data) as T);
    };
    // The gateway is stopping (a deploy, a scale-down): open the stream again, elsewhere.
    current.addEventListener('shutdown', () => reconnect());
    current.addEventListener('end', () => reconnect());
    current.addEventListener('rpc-error', (event) => {
      const data = JSON.parse((event as MessageEvent).data) as ErrorBody & { code: string; message: string };
      if (TRANSIENT.includes(data.code)) return reconnect();
      current.close();
      onState('failed', new ApiError(0, data.code, data.message, undefined, data.field, data));
    });
    current.onerror = () => {
      // The browser retries by itself while CONNECTING; a CLOSED source (an HTTP error, such as
      // a replica that is gone) is retried here.
      if (current.readyState === EventSource.CLOSED) reconnect();
      else onState('reconnecting');
    };
  };

  open();
  return () => {
    stopped = true;
    if (timer !== undefined) window.clearTimeout(timer);
    source?.close();
  };
}

/** A fresh idempotency key, so that a retried write is applied once. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}

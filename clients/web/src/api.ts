// Calls to the gateway: POST /api/<Service>/<Method> with JSON, and server-streaming methods as
// server-sent events. Errors carry the service's canonical code and message.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The field a validation message names ("expected_month: ..."), if any. */
  get field(): string | undefined {
    const match = /^([a-z_][a-z0-9_.]*): /.exec(this.message);
    return match ? match[1] : undefined;
  }

  /** The message without its leading field name. */
  get problem(): string {
    const field = this.field;
    return field ? this.message.slice(field.length + 2) : this.message;
  }
}

/** Thrown (and handled once, in main.ts) when the session has ended. */
export let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler;
}

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
    const error = (parsed ?? {}) as { code?: string; message?: string };
    const apiError = new ApiError(response.status, error.code ?? 'UNKNOWN', error.message ?? text);
    if (response.status === 401 && path !== '/api/login') onUnauthenticated();
    throw apiError;
  }
  return parsed as T;
}

/** Calls a unary method of a backend service. */
export function call<T>(service: 'CaseService' | 'ForecastService', method: string, body: unknown = {}): Promise<T> {
  return request<T>(`/api/${service}/${method}`, body);
}

export function login<T>(jobCentre: string, staffCode: string, password: string): Promise<T> {
  return request<T>('/api/login', { job_centre: jobCentre, staff_code: staffCode, password });
}

export function logout(): Promise<unknown> {
  return request('/api/logout', {});
}

export async function currentSession<T>(): Promise<T | undefined> {
  const response = await fetch('/api/session', { credentials: 'same-origin' });
  if (!response.ok) return undefined;
  return (await response.json()) as T;
}

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'failed';

/**
 * Subscribes to a server-streaming method. `onMessage` gets every pushed message; the browser
 * reconnects by itself after a network drop. Returns a function that ends the subscription.
 */
export function subscribe<T>(
  service: 'ForecastService',
  method: string,
  body: unknown,
  onMessage: (message: T) => void,
  onState: (state: StreamState, error?: ApiError) => void,
): () => void {
  const url = `/api/${service}/${method}/stream?json=${encodeURIComponent(JSON.stringify(body))}`;
  const source = new EventSource(url);
  onState('connecting');
  source.onmessage = (event) => {
    onState('live');
    onMessage(JSON.parse(event.data) as T);
  };
  source.addEventListener('rpc-error', (event) => {
    const data = JSON.parse((event as MessageEvent).data) as { code: string; message: string };
    source.close();
    onState('failed', new ApiError(0, data.code, data.message));
  });
  source.onerror = () => {
    onState(source.readyState === EventSource.CLOSED ? 'failed' : 'reconnecting');
  };
  return () => source.close();
}

/** A fresh idempotency key, so that a retried write is applied once. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}

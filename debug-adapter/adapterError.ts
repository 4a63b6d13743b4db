/**
 * Errors the adapter answers with, and the `Result` every request handler returns: a handler never
 * throws to the session, so a malformed or out-of-order request becomes one error response and the
 * adapter keeps serving (`toErrorMessage` is the one place that turns errors into DAP messages).
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ADAPTER_ERROR_IDS } from './protocol';

export type ErrorKind = keyof typeof ADAPTER_ERROR_IDS;

export class AdapterError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** `user`: the request or the program is at fault; `internal`: the adapter is. */
    readonly blame: 'user' | 'internal' = kind === 'internal' ? 'internal' : 'user',
  ) {
    super(message);
    this.name = 'AdapterError';
  }
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: AdapterError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(kind: ErrorKind, message: string): Result<T> {
  return { ok: false, error: new AdapterError(kind, message) };
}

/** Any thrown value as an AdapterError: ours pass through, anything else is the adapter's fault. */
export function asAdapterError(e: unknown): AdapterError {
  if (e instanceof AdapterError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new AdapterError('internal', `internal error: ${message}`, 'internal');
}

export function toErrorMessage(error: AdapterError): DebugProtocol.Message {
  return {
    id: ADAPTER_ERROR_IDS[error.kind],
    format: error.message.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')),
    showUser: error.blame === 'user',
    sendTelemetry: error.blame === 'internal',
  };
}

// ---- argument checks: requests come from any client, so nothing in `arguments` is trusted ----

export function requireObject(args: unknown, command: string): Record<string, unknown> {
  if (args === null || typeof args !== 'object' || Array.isArray(args))
    throw new AdapterError('badArguments', `${command}: arguments must be an object`);
  return args as Record<string, unknown>;
}

export function requireInt(args: Record<string, unknown>, key: string, command: string, min = 0): number {
  const v = args[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new AdapterError('badArguments', `${command}: '${key}' must be an integer ≥ ${min}`);
  return v;
}

export function optionalInt(
  args: Record<string, unknown>,
  key: string,
  command: string,
  fallback: number,
  min = 0,
): number {
  return args[key] === undefined ? fallback : requireInt(args, key, command, min);
}

export function requireString(args: Record<string, unknown>, key: string, command: string): string {
  const v = args[key];
  if (typeof v !== 'string') throw new AdapterError('badArguments', `${command}: '${key}' must be a string`);
  return v;
}

/** A 64-bit number given as `"0x…"`, a decimal string or a safe JSON integer. */
export function requireBig(args: Record<string, unknown>, key: string, command: string): bigint {
  const v = args[key];
  const parsed = parseBig(v);
  if (parsed === null)
    throw new AdapterError('badArguments', `${command}: '${key}' must be a 64-bit number ("0x…")`);
  return parsed;
}

export function parseBig(v: unknown): bigint | null {
  try {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
    if (typeof v === 'string' && /^(0x[0-9a-f_]+|[0-9_]+)$/i.test(v.trim())) {
      const b = BigInt(v.trim().replace(/_/g, ''));
      return b < 1n << 64n ? b : null;
    }
  } catch {
    return null;
  }
  return null;
}

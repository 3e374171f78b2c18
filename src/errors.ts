import { STATUS_CODES } from 'node:http';

/** Kibana's (Boom's) error body: `{statusCode, error, message}` plus optional `attributes`. */
export interface ErrorEnvelope {
  statusCode: number;
  error: string;
  message: string;
  attributes?: Record<string, unknown>;
}

/** An error that becomes an HTTP response in Kibana's error envelope. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly attributes: Record<string, unknown> | undefined;

  constructor(statusCode: number, message?: string, attributes?: Record<string, unknown>) {
    super(message ?? reasonPhrase(statusCode));
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.attributes = attributes;
  }
}

export function reasonPhrase(statusCode: number): string {
  return STATUS_CODES[statusCode] ?? 'Unknown';
}

export function toEnvelope(
  statusCode: number,
  message?: string,
  attributes?: Record<string, unknown>,
): ErrorEnvelope {
  const body: ErrorEnvelope = {
    statusCode,
    error: reasonPhrase(statusCode),
    message: message ?? reasonPhrase(statusCode),
  };
  if (attributes !== undefined) body.attributes = attributes;
  return body;
}

export const badRequest = (message?: string) => new HttpError(400, message);
export const unauthorized = (message?: string) => new HttpError(401, message);
export const forbidden = (message?: string) => new HttpError(403, message);
export const notFound = (message?: string) => new HttpError(404, message);
export const conflict = (message?: string) => new HttpError(409, message);

/** The saved-objects 404 every connector route answers for an unknown id. */
export const savedObjectNotFound = (type: string, id: string) =>
  notFound(`Saved object [${type}/${id}] not found`);

export const savedObjectConflict = (type: string, id: string) =>
  conflict(`Saved object [${type}/${id}] conflict`);

export const INTERNAL_ERROR_MESSAGE = 'An internal server error occurred.';

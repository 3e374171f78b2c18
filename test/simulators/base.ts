import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/**
 * The base of every vendor simulator: a real HTTP(S) server on 127.0.0.1, port 0, that records
 * each request it receives (method, path, query, headers, raw body) and hands it to the
 * vendor's handler. Helpers answer the way vendors fail: JSON errors, 429 with Retry-After,
 * slow answers (timeouts), connections reset mid-request, oversized bodies.
 */

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  text: string;
  /** The body parsed as JSON, or undefined. */
  json: unknown;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => unknown;

export interface Simulator {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** The last request received. */
  last(): RecordedRequest;
  /** Connections accepted so far (an address a client must never reach can assert 0). */
  connections: number;
  close(): Promise<void>;
}

export interface SimulatorOptions {
  https?: HttpsOptions;
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
}

export async function startSimulator(
  handler: Handler,
  options: SimulatorOptions = {},
): Promise<Simulator> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const listener = (incoming: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (c: Buffer) => chunks.push(c));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('utf8');
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      const url = new URL(incoming.url ?? '/', 'http://simulator');
      const req: RecordedRequest = {
        method: incoming.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: incoming.headers,
        body,
        text,
        json,
      };
      requests.push(req);
      Promise.resolve(handler(req, res)).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: String(err) });
        else res.destroy();
      });
    });
  };
  const server: Server = options.https
    ? createHttpsServer(options.https, listener)
    : createHttpServer(listener);
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.https ? 'https' : 'http'}://${host}:${port}`,
    port,
    requests,
    last() {
      const req = requests.at(-1);
      if (req === undefined) throw new Error('the simulator received no request');
      return req;
    },
    get connections() {
      return connections;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/plain',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** Drop the connection without an answer (the client sees a reset / socket hang up). */
export function resetConnection(res: ServerResponse): void {
  res.socket?.destroy();
}

/** Answer only after `ms`, unless the client has gone by then. */
export function answerLater(res: ServerResponse, ms: number, answer: () => void): void {
  const timer = setTimeout(answer, ms);
  res.on('close', () => clearTimeout(timer));
}

/** A body bigger than `bytes`, streamed. */
export function sendLarge(res: ServerResponse, bytes: number): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let sent = 0;
  const pump = () => {
    while (sent < bytes) {
      sent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** A file download, as a vendor sends one. */
export function sendBytes(
  res: ServerResponse,
  body: Buffer,
  contentType: string,
  fileName: string,
): void {
  res.writeHead(200, {
    'content-type': contentType,
    'content-length': body.length,
    'content-disposition': `attachment; filename="${fileName}"`,
  });
  res.end(body);
}

/** The request line's target as the client sent it (path and raw query, before any decoding). */
export function rawTarget(res: ServerResponse): string {
  return res.req.url ?? '';
}

/** Basic credentials of a request, or undefined. */
export function basicCredentials(
  req: RecordedRequest,
): { username: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

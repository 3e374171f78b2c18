import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { Agent, type Dispatcher, request as undiciRequest } from 'undici';
import { endOfTurn } from '../end-of-turn.js';
import type { EgressGuard } from './egress.js';

/**
 * The one way connectors reach vendors. It enforces xpack.actions.allowedHosts on every URL and
 * every redirect hop, applies xpack.actions.responseTimeout and maxResponseContentLength, keeps
 * a keep-alive pool per vendor origin, and never logs bodies, headers or URL paths (a webhook URL
 * path is often a secret): only the origin, method, status and time.
 *
 * Any HTTP status resolves; only a failure to get an answer rejects, with an OutboundError.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

export interface TlsOptions {
  /** 'none' skips verification; 'certificate' checks the chain but not the hostname. */
  verificationMode?: 'none' | 'certificate' | 'full';
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  pfx?: Buffer;
  passphrase?: string;
}

/**
 * What a call needs of its caller's cancellation: whether it happened, and word when it does. An
 * AbortSignal has this; so does a run's lighter cancellation, which makes no AbortController.
 */
export interface Cancellation {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface OutboundRequest {
  url: string;
  method?: HttpMethod;
  headers?: Record<string, string>;
  /** Sent as JSON with `Content-Type: application/json` unless the headers say otherwise. */
  json?: unknown;
  body?: string | Buffer;
  /** Basic credentials, sent as an explicit Authorization header. */
  auth?: { username: string; password: string };
  /** A connector's own timeout; the effective one is the larger of this and responseTimeout. */
  timeoutMs?: number;
  tls?: TlsOptions;
  /** Redirects to follow (each hop checked again); 0 returns the 3xx itself. Default 5. */
  maxRedirects?: number;
}

export interface OutboundResponse {
  status: number;
  statusText: string;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** The URL that answered, after redirects. */
  url: string;
  text(): string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json<T = unknown>(): T | undefined;
}

export interface OutboundStream {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: Readable;
  url: string;
}

export type OutboundErrorCode =
  | 'invalid_url'
  | 'not_allowed'
  | 'timeout'
  | 'network'
  | 'too_large'
  | 'aborted'
  | 'redirect';

export class OutboundError extends Error {
  readonly code: OutboundErrorCode;
  constructor(code: OutboundErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OutboundError';
    this.code = code;
  }
}

export interface HttpClientOptions {
  egress: EgressGuard;
  responseTimeoutMs: number;
  maxContentLength: number;
  verificationMode: 'none' | 'certificate' | 'full';
  logger: Logger;
}

const STATUS_TEXT: Readonly<Record<number, string | undefined>> = STATUS_CODES;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const KEEP_ALIVE_MS = 10_000;
const CONNECTIONS_PER_ORIGIN = 128;

function connectOptions(
  egress: EgressGuard,
  mode: 'none' | 'certificate' | 'full',
  tls?: TlsOptions,
) {
  const effective = tls?.verificationMode ?? mode;
  return {
    lookup: egress.lookup,
    rejectUnauthorized: effective !== 'none',
    ...(effective === 'certificate' ? { checkServerIdentity: () => undefined } : {}),
    ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls?.cert !== undefined ? { cert: tls.cert } : {}),
    ...(tls?.key !== undefined ? { key: tls.key } : {}),
    ...(tls?.pfx !== undefined ? { pfx: tls.pfx } : {}),
    ...(tls?.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
  };
}

export class HttpClient {
  private readonly defaultAgent: Agent;
  /** Agents for requests that carry their own TLS material, keyed by a digest of it. */
  private readonly tlsAgents = new Map<string, Agent>();

  constructor(private readonly options: HttpClientOptions) {
    this.defaultAgent = this.makeAgent();
  }

  private makeAgent(tls?: TlsOptions): Agent {
    return new Agent({
      connections: CONNECTIONS_PER_ORIGIN,
      keepAliveTimeout: KEEP_ALIVE_MS,
      connect: connectOptions(this.options.egress, this.options.verificationMode, tls),
    });
  }

  private dispatcherFor(tls?: TlsOptions): Dispatcher {
    if (tls === undefined) return this.defaultAgent;
    const digest = createHash('sha256');
    for (const [k, v] of Object.entries(tls)) {
      digest.update(k);
      // Binary material (a PFX) is hashed as bytes: as text, distinct files could look alike.
      for (const part of Array.isArray(v) ? v : [v]) {
        digest.update(Buffer.isBuffer(part) ? part : String(part));
        digest.update('\n');
      }
    }
    const key = digest.digest('hex');
    let agent = this.tlsAgents.get(key);
    if (agent === undefined) {
      agent = this.makeAgent(tls);
      this.tlsAgents.set(key, agent);
    }
    return agent;
  }

  /** Send a request and read the whole answer (capped at maxResponseContentLength). */
  async request(req: OutboundRequest, signal?: Cancellation): Promise<OutboundResponse> {
    const call = await this.dispatch(req, signal);
    try {
      const body = await this.readCapped(call);
      const status = call.response.statusCode;
      return {
        status,
        statusText: STATUS_TEXT[status] ?? '',
        headers: flattenHeaders(call.response.headers),
        body,
        url: call.url,
        text: () => body.toString('utf8'),
        json<T>() {
          try {
            return JSON.parse(body.toString('utf8')) as T;
          } catch {
            return undefined;
          }
        },
      };
    } finally {
      call.release();
    }
  }

  /**
   * Send a request and hand back the body as a stream, as the vendor sends it. The response
   * timeout covers the wait for the headers; the caller's signal ends the stream at any time.
   */
  async stream(req: OutboundRequest, signal?: Cancellation): Promise<OutboundStream> {
    const call = await this.dispatch(req, signal);
    clearTimeout(call.timer.handle);
    call.response.body.once('close', call.release);
    return {
      status: call.response.statusCode,
      statusText: STATUS_TEXT[call.response.statusCode] ?? '',
      headers: flattenHeaders(call.response.headers),
      body: call.response.body,
      url: call.url,
    };
  }

  /** Connections and requests across every vendor pool, for the metrics. */
  poolCounts(): {
    connected: number;
    free: number;
    pending: number;
    queued: number;
    running: number;
  } {
    const total = { connected: 0, free: 0, pending: 0, queued: 0, running: 0 };
    for (const agent of [this.defaultAgent, ...this.tlsAgents.values()]) {
      for (const stats of Object.values(agent.stats)) {
        const s = stats as Partial<typeof total>;
        total.connected += s.connected ?? 0;
        total.free += s.free ?? 0;
        total.pending += s.pending ?? 0;
        total.queued += s.queued ?? 0;
        total.running += s.running ?? 0;
      }
    }
    return total;
  }

  async close(): Promise<void> {
    await Promise.all([
      this.defaultAgent.close(),
      ...[...this.tlsAgents.values()].map((a) => a.close()),
    ]);
  }

  private async dispatch(req: OutboundRequest, outerSignal?: Cancellation): Promise<Call> {
    const timeoutMs = Math.max(this.options.responseTimeoutMs, req.timeoutMs ?? 0);
    // undici takes an emitter as the request's signal: lighter than an AbortController per call.
    // An emitter keeps no state, so `aborted` stops a hop that starts after the abort.
    const abort = new EventEmitter();
    let aborted = outerSignal?.aborted === true;
    const onOuterAbort = () => {
      aborted = true;
      abort.emit('abort');
    };
    const timer = {
      fired: false,
      handle: setTimeout(() => {
        timer.fired = true;
        onOuterAbort();
      }, timeoutMs),
    };
    outerSignal?.addEventListener('abort', onOuterAbort, { once: true });
    const release = () => {
      clearTimeout(timer.handle);
      outerSignal?.removeEventListener('abort', onOuterAbort);
    };

    const headers: Record<string, string> = { ...req.headers };
    let body: string | Buffer | undefined = req.body;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/json';
    }
    if (req.auth !== undefined) {
      const token = Buffer.from(`${req.auth.username}:${req.auth.password}`).toString('base64');
      headers.Authorization = `Basic ${token}`;
    }
    const dispatcher = this.dispatcherFor(req.tls);
    const maxRedirects = req.maxRedirects ?? 5;
    let url = req.url;
    const method: HttpMethod = req.method ?? 'GET';
    try {
      for (let hop = 0; ; hop++) {
        const parsed = this.checkUrl(url, hop > 0);
        const started = performance.now();
        let response: Dispatcher.ResponseData;
        try {
          // Sent with the other vendor requests of this turn (see endOfTurn).
          await endOfTurn();
          if (aborted) throw Object.assign(new Error('aborted'), { code: 'UND_ERR_ABORTED' });
          response = await undiciRequest(parsed, {
            dispatcher,
            method,
            headers,
            body: method === 'GET' || method === 'HEAD' ? undefined : body,
            signal: abort,
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
          });
        } catch (err) {
          throw translate(err, parsed, timeoutMs, timer.fired);
        }
        if (this.options.logger.isLevelEnabled('debug')) {
          this.options.logger.debug(
            {
              vendor: parsed.origin,
              method,
              status: response.statusCode,
              ms: Math.round(performance.now() - started),
            },
            'outbound request',
          );
        }
        const location = response.headers.location;
        if (
          !REDIRECT_STATUSES.has(response.statusCode) ||
          location === undefined ||
          hop >= maxRedirects
        ) {
          return { response, url, timeoutMs, timer, release };
        }
        await response.body.dump();
        const next = new URL(String(location), parsed).toString();
        const keepsMethod = response.statusCode === 307 || response.statusCode === 308;
        if (!keepsMethod && method !== 'GET' && method !== 'HEAD') {
          throw new OutboundError(
            'redirect',
            `the server answered ${response.statusCode} to a ${method} request; following it would turn the request into a GET, so it was not followed`,
          );
        }
        // Credentials never follow a redirect to another origin.
        if (new URL(next).origin !== parsed.origin) {
          for (const name of Object.keys(headers)) {
            const lower = name.toLowerCase();
            if (lower === 'authorization' || lower === 'cookie') delete headers[name];
          }
        }
        url = next;
      }
    } catch (err) {
      release();
      throw err;
    }
  }

  private checkUrl(url: string, isRedirect: boolean): URL {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new OutboundError('invalid_url', `Invalid URL: ${redactUrl(url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new OutboundError('invalid_url', `Invalid protocol: ${parsed.protocol}`);
    }
    const refusal = this.options.egress.checkUrl(parsed, url, isRedirect);
    if (refusal !== undefined) throw new OutboundError('not_allowed', refusal);
    return parsed;
  }

  private readCapped(call: Call): Promise<Buffer> {
    const max = this.options.maxContentLength;
    const stream = call.response.body;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) {
          reject(new OutboundError('too_large', `maxContentLength size of ${max} exceeded`));
          stream.destroy();
          return;
        }
        chunks.push(chunk);
      });
      stream.once('end', () => resolve(Buffer.concat(chunks, size)));
      stream.once('error', (err) =>
        reject(translate(err, new URL(call.url), call.timeoutMs, call.timer.fired)),
      );
    });
  }
}

interface Call {
  response: Dispatcher.ResponseData;
  url: string;
  timeoutMs: number;
  timer: { fired: boolean; handle: NodeJS.Timeout };
  release: () => void;
}

function translate(err: unknown, url: URL, timeoutMs: number, timedOut: boolean): OutboundError {
  const e = err as {
    code?: string;
    message?: string;
    name?: string;
    cause?: { code?: string; message?: string };
  };
  const code = e.code ?? e.cause?.code;
  if (code === 'EGRESS_REFUSED') {
    return new OutboundError(
      'not_allowed',
      (e.code === code ? e.message : e.cause?.message) ?? 'refused',
      {
        cause: err,
      },
    );
  }
  if (
    timedOut ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return new OutboundError('timeout', `timeout of ${timeoutMs}ms exceeded`, { cause: err });
  }
  if (code === 'UND_ERR_ABORTED' || e.name === 'AbortError') {
    return new OutboundError('aborted', 'the request was aborted', { cause: err });
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (code === 'ECONNREFUSED') {
    return new OutboundError('network', `connect ECONNREFUSED ${url.hostname}:${port}`, {
      cause: err,
    });
  }
  if (code === 'ECONNRESET') return new OutboundError('network', 'read ECONNRESET', { cause: err });
  if (code === 'UND_ERR_SOCKET')
    return new OutboundError('network', 'socket hang up', { cause: err });
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new OutboundError('network', `getaddrinfo ${code} ${url.hostname}`, { cause: err });
  }
  return new OutboundError('network', e.message ?? 'request failed', { cause: err });
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

function flattenHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** A URL safe to show: origin only, without userinfo, path or query. */
export function redactUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '<invalid url>';
  }
}

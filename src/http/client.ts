import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { Agent, type Dispatcher, errors, request as undiciRequest, util } from 'undici';
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
    const { answer, url, call } = await this.exchange(req, signal, this.whole);
    call.release();
    const { status, body } = answer;
    return {
      status,
      statusText: STATUS_TEXT[status] ?? '',
      headers: answer.headers,
      body,
      url,
      text: () => body.toString('utf8'),
      json<T>() {
        try {
          return JSON.parse(body.toString('utf8')) as T;
        } catch {
          return undefined;
        }
      },
    };
  }

  /**
   * Send a request and hand back the body as a stream, as the vendor sends it. The response
   * timeout covers the wait for the headers; the caller's signal ends the stream at any time.
   */
  async stream(req: OutboundRequest, signal?: Cancellation): Promise<OutboundStream> {
    const { answer, url, call } = await this.exchange(req, signal, streamed);
    clearTimeout(call.timer);
    answer.body.once('close', call.release);
    return {
      status: answer.status,
      statusText: STATUS_TEXT[answer.status] ?? '',
      headers: answer.headers,
      body: answer.body,
      url,
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

  /** The answer read whole: no more than maxResponseContentLength, else too_large. */
  private readonly whole: Mode<Buffer> = {
    send: (dispatcher, url, options, call, followable) =>
      readWhole(dispatcher, url, options, call, followable, this.options.maxContentLength),
    discard: async () => {},
  };

  /**
   * One call: the request sent and each redirect hop followed (each checked again), under one
   * timer, with the answer's body taken as `mode` takes it. The caller releases the call (its
   * timer and its listener on the caller's signal) once done with the answer.
   */
  private async exchange<B>(
    req: OutboundRequest,
    outerSignal: Cancellation | undefined,
    mode: Mode<B>,
  ): Promise<{ answer: Answer<B>; url: string; call: CallState }> {
    const timeoutMs = Math.max(this.options.responseTimeoutMs, req.timeoutMs ?? 0);
    const call = new CallState(timeoutMs, outerSignal);
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
        let answer: Answer<B>;
        try {
          // Sent with the other vendor requests of this turn (see endOfTurn).
          await endOfTurn();
          if (call.aborted) throw new errors.RequestAbortedError();
          const options: HopOptions = {
            method,
            headers,
            body: method === 'GET' || method === 'HEAD' ? undefined : body,
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
          };
          answer = await mode.send(dispatcher, parsed, options, call, hop < maxRedirects);
        } catch (err) {
          throw translate(err, parsed, timeoutMs, call.timedOut);
        }
        if (this.options.logger.isLevelEnabled('debug')) {
          this.options.logger.debug(
            {
              vendor: parsed.origin,
              method,
              status: answer.status,
              ms: Math.round(performance.now() - started),
            },
            'outbound request',
          );
        }
        const location = answer.headers.location;
        if (!isRedirect(answer.status, answer.headers) || hop >= maxRedirects) {
          return { answer, url, call };
        }
        await mode.discard(answer.body);
        const next = new URL(String(location), parsed).toString();
        const keepsMethod = answer.status === 307 || answer.status === 308;
        if (!keepsMethod && method !== 'GET' && method !== 'HEAD') {
          throw new OutboundError(
            'redirect',
            `the server answered ${answer.status} to a ${method} request; following it would turn the request into a GET, so it was not followed`,
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
      call.release();
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
}

/**
 * One call's deadline and cancellation: the timer, the caller's signal, and the abort of the hop
 * in flight, which the hop's sender sets.
 */
class CallState {
  aborted: boolean;
  timedOut = false;
  /** Ends the hop in flight; set by the mode while a hop is out. */
  abortHop: ((err: Error) => void) | undefined = undefined;
  readonly timer: NodeJS.Timeout;

  constructor(
    timeoutMs: number,
    private readonly outer: Cancellation | undefined,
  ) {
    this.aborted = outer?.aborted === true;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.abort();
    }, timeoutMs);
    outer?.addEventListener('abort', this.abort, { once: true });
  }

  readonly abort = (): void => {
    this.aborted = true;
    this.abortHop?.(new errors.RequestAbortedError());
  };

  readonly release = (): void => {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.abort);
  };
}

interface HopOptions {
  method: HttpMethod;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  headersTimeout: number;
  bodyTimeout: number;
}

/** An answer's status and headers (lower-cased names, repeats joined), and its body as taken. */
interface Answer<B> {
  status: number;
  headers: Record<string, string>;
  body: B;
}

/** How a hop is sent and its body taken, and how the body of a redirect that is followed goes. */
interface Mode<B> {
  send(
    dispatcher: Dispatcher,
    url: URL,
    options: HopOptions,
    call: CallState,
    followable: boolean,
  ): Promise<Answer<B>>;
  discard(body: B): Promise<void>;
}

function isRedirect(status: number, headers: Record<string, string>): boolean {
  return REDIRECT_STATUSES.has(status) && headers.location !== undefined;
}

/**
 * The body as a stream (undici's request API). A signal of its own, an emitter (lighter than an
 * AbortController), lets the call's timer and the caller end the hop, and later the stream.
 */
const streamed: Mode<Dispatcher.ResponseData['body']> = {
  async send(dispatcher, url, options, call) {
    const signal = new EventEmitter();
    call.abortHop = () => signal.emit('abort');
    const response = await undiciRequest(url, {
      dispatcher,
      ...options,
      signal,
      responseHeaders: 'raw',
    });
    return {
      status: response.statusCode,
      // Raw pairs (responseHeaders: 'raw'), made into a record as an answer read whole is.
      headers: headersOf(response.headers as unknown as string[]),
      body: response.body,
    };
  },
  discard: (body) => body.dump(),
};

/**
 * One hop, its answer read whole, through undici's dispatch with a handler of its own: it takes
 * the chunks as the parser hands them over, without the body stream, the async-context resource
 * and the promise of each call that undici's request API makes for a body read whole. Past `max`
 * bytes the hop is ended with too_large; a redirect that will be followed keeps no body.
 */
function readWhole(
  dispatcher: Dispatcher,
  url: URL,
  options: HopOptions,
  call: CallState,
  followable: boolean,
  max: number,
): Promise<Answer<Buffer>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let status = 0;
    let headers: Record<string, string> = {};
    let keep = true;
    let abort: (err: Error) => void = () => {};
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortHop) {
        abort = abortHop;
        if (call.aborted) abortHop(new errors.RequestAbortedError());
        else call.abortHop = abortHop;
      },
      onHeaders(statusCode, rawHeaders) {
        // Informational answers (1xx) come before the answer itself.
        if (statusCode < 200) return true;
        status = statusCode;
        headers = headersOf(rawHeaders);
        keep = !(followable && isRedirect(status, headers));
        return true;
      },
      onData(chunk) {
        if (!keep) return true;
        size += chunk.length;
        if (size > max) {
          abort(new OutboundError('too_large', `maxContentLength size of ${max} exceeded`));
          return true;
        }
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        call.abortHop = undefined;
        resolve({ status, headers, body: Buffer.concat(chunks, keep ? size : 0) });
      },
      onError(err) {
        call.abortHop = undefined;
        reject(err);
      },
    };
    const path = url.search ? `${url.pathname}${url.search}` : url.pathname;
    try {
      dispatcher.dispatch({ origin: url.origin, path, ...options }, handler);
    } catch (err) {
      reject(err);
    }
  });
}

/** Raw header pairs as a record: lower-cased names, repeated headers joined with ", ". */
function headersOf(raw: Array<Buffer | string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = util.headerNameToString(raw[i] as Buffer | string);
    const part = raw[i + 1] as Buffer | string;
    const value = typeof part === 'string' ? part : part.toString('latin1');
    const seen = Object.hasOwn(out, name) ? out[name] : undefined;
    setHeader(out, name, seen === undefined ? value : `${seen}, ${value}`);
  }
  return out;
}

/** An own property even for `__proto__`, which a plain assignment would take as the prototype. */
function setHeader(out: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__') {
    Object.defineProperty(out, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    out[name] = value;
  }
}

function translate(err: unknown, url: URL, timeoutMs: number, timedOut: boolean): OutboundError {
  if (err instanceof OutboundError) return err;
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

/** A URL safe to show: origin only, without userinfo, path or query. */
export function redactUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '<invalid url>';
  }
}

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllowedHosts } from '../../src/http/allowed-hosts.js';
import { HttpClient, OutboundError } from '../../src/http/client.js';
import { EgressGuard } from '../../src/http/egress.js';
import {
  answerLater,
  resetConnection,
  type Simulator,
  sendJson,
  sendLarge,
  startSimulator,
} from '../simulators/base.js';

/** The outbound client against a real server on loopback. */

function client(
  options: { allowed?: string[]; deny?: string[]; timeoutMs?: number; max?: number } = {},
) {
  return new HttpClient({
    egress: new EgressGuard(new AllowedHosts(options.allowed ?? ['*']), options.deny ?? []),
    responseTimeoutMs: options.timeoutMs ?? 2000,
    maxContentLength: options.max ?? 1024 * 1024,
    verificationMode: 'full',
    logger: pino({ level: 'silent' }),
  });
}

async function failure(promise: Promise<unknown>): Promise<OutboundError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof OutboundError) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe('HttpClient', () => {
  let vendor: Simulator;
  beforeAll(async () => {
    vendor = await startSimulator((req, res) => {
      switch (req.path) {
        case '/json':
          return sendJson(res, 201, { ok: true, got: req.json }, { 'x-vendor': 'yes' });
        case '/error':
          return sendJson(res, 503, { message: 'down' }, { 'retry-after': '30' });
        case '/slow':
          return answerLater(res, 1000, () => sendJson(res, 200, {}));
        case '/reset':
          return resetConnection(res);
        case '/large':
          return sendLarge(res, 64 * 1024);
        case '/redirect-307':
          res.writeHead(307, { location: '/json' });
          return res.end();
        case '/redirect-302':
          res.writeHead(302, { location: '/json' });
          return res.end();
        case '/redirect-slowly':
          // The redirect's own body takes a while: a caller may go while it is read.
          res.writeHead(307, { location: '/json', 'content-type': 'text/plain' });
          res.write('moved');
          return answerLater(res, 300, () => res.end());
        case '/repeated':
          res.setHeader('set-cookie', ['a=1', 'b=2']);
          res.setHeader('__proto__', 'plain');
          return sendJson(res, 200, { repeated: true });
        case '/early-hints':
          res.writeEarlyHints({ link: '</a.css>; rel=preload' });
          return sendJson(res, 200, { hinted: true });
        case '/redirect-large':
          // A redirect with a body larger than the cap.
          res.writeHead(307, { location: '/json', 'content-type': 'text/plain' });
          return res.end('m'.repeat(4096));
        case '/redirect-away':
          res.writeHead(302, { location: 'http://localhost.invalid:1/steal' });
          return res.end();
        default:
          return sendJson(res, 404, { path: req.path });
      }
    });
  });
  afterAll(() => vendor.close());

  it('sends JSON and resolves any status with headers and body', async () => {
    const http = client();
    const res = await http.request({
      url: `${vendor.url}/json`,
      method: 'POST',
      json: { a: 1 },
      headers: { 'X-Custom': 'c' },
    });
    expect(res.status).toBe(201);
    expect(res.statusText).toBe('Created');
    expect(res.headers['x-vendor']).toBe('yes');
    expect(res.json()).toEqual({ ok: true, got: { a: 1 } });
    expect(vendor.last().headers['content-type']).toBe('application/json');
    expect(vendor.last().headers['x-custom']).toBe('c');
    const down = await http.request({ url: `${vendor.url}/error` });
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('30');
    await http.close();
  });

  it('sends basic credentials as an Authorization header', async () => {
    const http = client();
    await http.request({ url: `${vendor.url}/json`, auth: { username: 'u', password: 'p' } });
    expect(vendor.last().headers.authorization).toBe(
      `Basic ${Buffer.from('u:p').toString('base64')}`,
    );
    await http.close();
  });

  it('refuses hosts outside xpack.actions.allowedHosts with Kibana text', async () => {
    const http = client({ allowed: ['example.com'] });
    const before = vendor.connections;
    const err = await failure(http.request({ url: `${vendor.url}/json` }));
    expect(err.code).toBe('not_allowed');
    expect(err.message).toBe(
      `target url "${vendor.url}/json" is not added to the Kibana config xpack.actions.allowedHosts`,
    );
    expect(vendor.connections).toBe(before);
    await http.close();
  });

  it('times out, reports resets, and caps response size', async () => {
    const http = client({ timeoutMs: 200, max: 1024 });
    expect(await failure(http.request({ url: `${vendor.url}/slow` }))).toMatchObject({
      code: 'timeout',
      message: 'timeout of 200ms exceeded',
    });
    expect(await failure(http.request({ url: `${vendor.url}/reset` }))).toMatchObject({
      code: 'network',
      message: 'socket hang up',
    });
    expect(await failure(http.request({ url: `${vendor.url}/large` }))).toMatchObject({
      code: 'too_large',
      message: 'maxContentLength size of 1024 exceeded',
    });
    const refused = await failure(http.request({ url: 'http://127.0.0.1:1/x' }));
    expect(refused).toMatchObject({ code: 'network', message: 'connect ECONNREFUSED 127.0.0.1:1' });
    await http.close();
  });

  it('follows redirects, checks each hop, and never turns a POST into a GET', async () => {
    const http = client({ allowed: ['127.0.0.1'] });
    const kept = await http.request({
      url: `${vendor.url}/redirect-307`,
      method: 'POST',
      json: { b: 2 },
    });
    expect(kept.status).toBe(201);
    expect(kept.json()).toEqual({ ok: true, got: { b: 2 } });
    expect(vendor.last().method).toBe('POST');

    const get = await http.request({ url: `${vendor.url}/redirect-302` });
    expect(get.status).toBe(201);

    const post = await failure(
      http.request({ url: `${vendor.url}/redirect-302`, method: 'POST', json: {} }),
    );
    expect(post).toMatchObject({
      code: 'redirect',
      message:
        'the server answered 302 to a POST request; following it would turn the request into a GET, so it was not followed',
    });

    const away = await failure(http.request({ url: `${vendor.url}/redirect-away` }));
    expect(away).toMatchObject({
      code: 'not_allowed',
      message:
        'target hostname "localhost.invalid" is not added to the Kibana config xpack.actions.allowedHosts',
    });
    await http.close();
  });

  it('reads an answer whole: repeats joined, informational answers skipped, followed redirects uncounted', async () => {
    const http = client({ max: 1024 });
    const repeated = await http.request({ url: `${vendor.url}/repeated` });
    expect(repeated.headers['set-cookie']).toBe('a=1, b=2');
    expect(Object.getPrototypeOf(repeated.headers)).toBe(Object.prototype);
    expect(Object.hasOwn(repeated.headers, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(repeated.headers, '__proto__')?.value).toBe('plain');
    expect(repeated.json()).toEqual({ repeated: true });
    // The same record when the body is handed over as a stream.
    const streamed = await http.stream({ url: `${vendor.url}/repeated` });
    streamed.body.resume();
    expect(streamed.headers).toEqual(repeated.headers);
    expect(Object.hasOwn(streamed.headers, '__proto__')).toBe(true);

    const hinted = await http.request({ url: `${vendor.url}/early-hints` });
    expect(hinted.status).toBe(200);
    expect(hinted.headers.link).toBeUndefined();
    expect(hinted.json()).toEqual({ hinted: true });

    // The body of a redirect that is followed is not kept, so it cannot exceed the cap...
    const followed = await http.request({ url: `${vendor.url}/redirect-large` });
    expect(followed.status).toBe(201);
    expect(followed.url).toBe(`${vendor.url}/json`);
    // ...while a redirect answered as it is keeps its body, under the same cap.
    expect(
      await failure(http.request({ url: `${vendor.url}/redirect-large`, maxRedirects: 0 })),
    ).toMatchObject({ code: 'too_large', message: 'maxContentLength size of 1024 exceeded' });
    const small = client();
    const kept = await small.request({ url: `${vendor.url}/redirect-large`, maxRedirects: 0 });
    expect(kept.status).toBe(307);
    expect(kept.headers.location).toBe('/json');
    expect(kept.text()).toBe('m'.repeat(4096));
    await Promise.all([http.close(), small.close()]);
  });

  it('stops when the caller aborts', async () => {
    const http = client();
    const controller = new AbortController();
    const pending = http.request({ url: `${vendor.url}/slow` }, controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect(await failure(pending)).toMatchObject({ code: 'aborted' });
    await http.close();
  });

  it('follows no redirect once the caller has gone', async () => {
    const http = client();
    const controller = new AbortController();
    const pending = http.request(
      { url: `${vendor.url}/redirect-slowly`, method: 'POST', json: {} },
      controller.signal,
    );
    setTimeout(() => controller.abort(), 100);
    expect(await failure(pending)).toMatchObject({ code: 'aborted' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(vendor.requests.at(-1)?.path).toBe('/redirect-slowly');
    await http.close();
  });

  it('sends nothing when the caller has already gone', async () => {
    const http = client();
    const before = vendor.requests.length;
    const gone = AbortSignal.abort();
    const result = await failure(http.request({ url: `${vendor.url}/json` }, gone));
    expect(result).toMatchObject({ code: 'aborted', message: 'the request was aborted' });
    expect(vendor.requests.length).toBe(before);
    await http.close();
  });
});

describe('AllowedHosts', () => {
  it('compares hostnames exactly, case-insensitively, with a lone * for all', () => {
    const hosts = new AllowedHosts(['hooks.slack.com', '::1']);
    expect(hosts.isUriAllowed('https://hooks.slack.com/services/x')).toBe(true);
    expect(hosts.isUriAllowed('https://HOOKS.slack.com:8443/')).toBe(true);
    expect(hosts.isUriAllowed('https://evil.hooks.slack.com/')).toBe(false);
    expect(hosts.isUriAllowed('http://[::1]:9200/')).toBe(true);
    expect(hosts.isUriAllowed('not a url')).toBe(false);
    expect(() => hosts.ensureUriAllowed('https://example.com/a')).toThrow(
      'target url "https://example.com/a" is not added to the Kibana config xpack.actions.allowedHosts',
    );
    expect(new AllowedHosts(['*']).isUriAllowed('https://anything.example/')).toBe(true);
  });
});

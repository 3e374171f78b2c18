import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllowedHosts } from '../../src/http/allowed-hosts.js';
import { HttpClient, OutboundError } from '../../src/http/client.js';
import { DEFAULT_EGRESS_DENY, EgressGuard } from '../../src/http/egress.js';
import { type Simulator, sendJson, startSimulator } from '../simulators/base.js';

/**
 * URL tricks aimed at a denied address. A listener on the denied address counts connections:
 * none of the tricks may reach it. The redirector lives on another loopback address, allowed.
 */

function client(allowed: string[], deny: string[]) {
  return new HttpClient({
    egress: new EgressGuard(new AllowedHosts(allowed), deny),
    responseTimeoutMs: 2000,
    maxContentLength: 1024 * 1024,
    verificationMode: 'full',
    logger: pino({ level: 'silent' }),
  });
}

async function refusal(
  http: HttpClient,
  url: string,
  method: 'GET' | 'POST' = 'GET',
): Promise<OutboundError> {
  try {
    await http.request({ url, method });
  } catch (err) {
    if (err instanceof OutboundError) return err;
    throw err;
  }
  throw new Error(`reached ${url}`);
}

describe('egress guard', () => {
  let victim: Simulator;
  let redirector: Simulator;
  let p: number;

  beforeAll(async () => {
    victim = await startSimulator((_req, res) => sendJson(res, 200, { reached: true }));
    p = victim.port;
    redirector = await startSimulator(
      (req, res) => {
        const to = req.query.get('to') ?? '';
        res.writeHead(Number(req.query.get('status') ?? 302), { location: to });
        res.end();
      },
      { host: '127.0.0.2' },
    );
  });
  afterAll(async () => {
    await victim.close();
    await redirector.close();
  });

  const denied = ['127.0.0.1/32', '::1/128'];

  it('refuses every trick aimed at a denied address without connecting', async () => {
    const http = client(['*'], denied);
    const tricks = [
      `http://127.0.0.1:${p}/`,
      `http://2130706433:${p}/`,
      `http://0x7f000001:${p}/`,
      `http://0177.0.0.1:${p}/`,
      `http://0177.0000.0000.0001:${p}/`,
      `http://127.000.000.001:${p}/`,
      `http://127.1:${p}/`,
      `http://127.0.1:${p}/`,
      `http://0x7f.0x0.0x0.0x1:${p}/`,
      `http://[::ffff:127.0.0.1]:${p}/`,
      `http://[::ffff:7f00:1]:${p}/`,
      `http://[0:0:0:0:0:ffff:127.0.0.1]:${p}/`,
      `http://localhost:${p}/`,
      `http://LOCALHOST:${p}/`,
      `http://localhost.:${p}/`,
      `http://LocalHost.:${p}/`,
      `http://127.0.0.1.:${p}/`,
      `http://user:pass@127.0.0.1:${p}/`,
      `http://allowed.example.com@127.0.0.1:${p}/`,
      `http://127.0.0.1:${p}/#@allowed.example.com`,
      `http://127.0.0.1:${p}/?@allowed.example.com`,
      `http://127.0.0.1:${p}\\@allowed.example.com/`,
      `http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ:${p}/`,
      `http://ｌｏｃａｌｈｏｓｔ:${p}/`,
      `http://127。0。0。1:${p}/`,
      `http://%31%32%37.0.0.1:${p}/`,
      `http://0:${p}/`,
      `http://0.0.0.0:${p}/`,
      `http://[::]:${p}/`,
      `http://[::1]:${p}/`,
      `http://\t127.0.0.1:${p}/\n`,
      `${redirector.url}/?to=${encodeURIComponent(`http://127.0.0.1:${p}/`)}`,
      `${redirector.url}/?status=307&to=${encodeURIComponent(`http://2130706433:${p}/`)}`,
      `${redirector.url}/?to=${encodeURIComponent(`http://localhost:${p}/`)}`,
      `${redirector.url}/?to=${encodeURIComponent(`http://[::ffff:7f00:1]:${p}/`)}`,
    ];
    expect(tricks.length).toBeGreaterThanOrEqual(30);
    for (const url of tricks) {
      const err = await refusal(http, url);
      expect(err.code, url).toBe('not_allowed');
      expect(err.message, url).toMatch(
        /xpack\.actions\.egress\.deny refuses \((127\.0\.0\.1\/32|::1\/128)\)|an unspecified address/,
      );
    }
    expect(victim.connections).toBe(0);
    await http.close();
  });

  it('names the rule: allowedHosts, the deny list, or an unlisted address', async () => {
    const named = client(['example.com'], denied);
    expect((await refusal(named, `http://127.0.0.2:${redirector.port}/`)).message).toBe(
      `target url "http://127.0.0.2:${redirector.port}/" is not added to the Kibana config xpack.actions.allowedHosts`,
    );
    const byRange = client(['127.0.0.0/8'], denied);
    expect((await refusal(byRange, `http://localhost:${p}/`)).message).toBe(
      'target hostname "localhost" resolves to 127.0.0.1, which xpack.actions.egress.deny refuses (127.0.0.1/32)',
    );
    const onlyOther = client(['10.0.0.0/8'], []);
    expect((await refusal(onlyOther, `http://localhost:${p}/`)).message).toMatch(
      /^target hostname "localhost" resolves to (127\.0\.0\.1|::1), which no entry of xpack\.actions\.allowedHosts allows$/,
    );
    const metadata = client(['*'], [...DEFAULT_EGRESS_DENY]);
    expect((await refusal(metadata, 'http://169.254.169.254/latest/meta-data/')).message).toBe(
      'target url "http://169.254.169.254/latest/meta-data/" resolves to 169.254.169.254, which xpack.actions.egress.deny refuses (169.254.169.254/32)',
    );
    expect((await refusal(metadata, 'http://[fd00:ec2::254]/latest/')).message).toContain(
      '(fd00:ec2::254/128)',
    );
    expect(victim.connections).toBe(0);
    for (const c of [named, byRange, onlyOther, metadata]) await c.close();
  });

  it('admits wildcard names and CIDR ranges, and connects to the checked address', async () => {
    const http = client(['*.localhost', '127.0.0.2/32'], []);
    const viaRange = await http.request({ url: `http://127.0.0.2:${redirector.port}/?to=x` });
    expect(viaRange.status).toBe(302);
    const exact = client(['localhost'], ['::1/128']);
    const res = await exact.request({ url: `http://localhost:${p}/` });
    expect(res.json()).toEqual({ reached: true });
    await http.close();
    await exact.close();
    expect(new AllowedHosts(['*.example.com']).isUriAllowed('https://api.example.com/')).toBe(true);
    expect(new AllowedHosts(['*.example.com']).isUriAllowed('https://example.com/')).toBe(false);
    expect(new AllowedHosts(['*.example.com']).isUriAllowed('https://evilexample.com/')).toBe(
      false,
    );
  });
});

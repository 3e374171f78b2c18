import type { ServerResponse } from 'node:http';
import type { ServerOptions as HttpsOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import {
  type RecordedRequest,
  type Simulator,
  sendJson,
  sendText,
  startSimulator,
} from './base.js';
import { answerMagic, type MagicScript, magicWord } from './magic.js';

/**
 * A webhook receiver, as Kibana's webhook simulator behaves, plus an OAuth2 token endpoint.
 *
 * The magic input is the raw body, or for GET/DELETE the last path segment:
 * - Kibana's: `success` (200 OK), `authenticate` (200 only for elastic/changeme, else 403),
 *   `success_post_method` / `success_put_method` (403 on another method), `failure` (500),
 *   `header_as_payload` and `payload <text>` (stored, read back by a GET of `/`);
 * - `respond-with-<status>`: that status with a JSON `{message}` body;
 *   `respond-with-429-retry-after-<s>`: 429 with `Retry-After: <s>`;
 *   `respond-with-text-<status>`: that status with a plain-text body;
 *   `respond-with-timeout` (answers after 2 s), `respond-with-reset` (drops the connection),
 *   `respond-with-large` (a 64 KiB body), `redirect-<3xx>` (Location: /redirected).
 * A JSON object body is stored (200 OK); anything else: 400 `unexpected body <body>`.
 *
 * `POST /oauth/token` issues `Bearer` tokens for CLIENT_ID / CLIENT_SECRET (client_credentials);
 * a request that carries a Bearer token the simulator did not issue gets 401.
 */

export const CLIENT_ID = 'webhook-client-id';
export const CLIENT_SECRET = 'webhook-client-secret-Hx2';

export interface WebhookSimulator extends Simulator {
  /** Requests to the token endpoint. */
  tokenRequests: RecordedRequest[];
  /** Tokens issued so far, in order. */
  issuedTokens: string[];
  /** The client certificate CN seen on each request (https only; '' when none). */
  clientCertificates: string[];
}

const ELASTIC = Buffer.from('elastic:changeme').toString('base64');

function magicOf(req: RecordedRequest): string {
  const text = req.text.trim();
  if (text !== '') return text;
  return decodeURIComponent(req.path.split('/').at(-1) ?? '');
}

export async function startWebhookSimulator(
  options: { https?: HttpsOptions } = {},
): Promise<WebhookSimulator> {
  const tokenRequests: RecordedRequest[] = [];
  const issuedTokens: string[] = [];
  const clientCertificates: string[] = [];
  const payloads: unknown[] = [];

  const token = (req: RecordedRequest, res: ServerResponse) => {
    tokenRequests.push(req);
    const form = new URLSearchParams(req.text);
    if (
      form.get('grant_type') !== 'client_credentials' ||
      form.get('client_id') !== CLIENT_ID ||
      form.get('client_secret') !== CLIENT_SECRET
    ) {
      return sendJson(res, 401, {
        error: 'invalid_client',
        error_description: 'Client authentication failed',
      });
    }
    const issued = `sim-token-${issuedTokens.length + 1}`;
    issuedTokens.push(issued);
    sendJson(res, 200, { access_token: issued, token_type: 'Bearer', expires_in: 3600 });
  };

  const handle = (req: RecordedRequest, res: ServerResponse) => {
    const socket = res.socket as TLSSocket | null;
    if (options.https && socket && typeof socket.getPeerCertificate === 'function') {
      const subject = socket.getPeerCertificate().subject as { CN?: string } | undefined;
      clientCertificates.push(subject?.CN ?? '');
    }
    if (req.method === 'POST' && req.path === '/oauth/token') return token(req, res);

    const auth = req.headers.authorization ?? '';
    if (auth.startsWith('Bearer ') && !issuedTokens.includes(auth.slice('Bearer '.length))) {
      return sendJson(res, 401, { message: 'invalid or expired token' });
    }
    if (req.path === '/redirected') return sendText(res, 200, 'OK');

    const magic = magicOf(req);
    if (req.method === 'GET' && req.path === '/') {
      const stored = [...payloads];
      payloads.length = 0;
      return sendJson(res, 200, stored);
    }

    const script: MagicScript = {
      fail: (status, headers) =>
        sendJson(
          res,
          status,
          { message: headers['retry-after'] ? 'slow down' : `simulated ${status}` },
          headers,
        ),
      late: () => sendText(res, 200, 'OK'),
      text: 'plain failure',
    };
    if (answerMagic(magicWord(magic), res, script)) return;
    const match = /^redirect-(30\d)$/.exec(magic);
    if (match) {
      res.writeHead(Number(match[1]), { location: '/redirected', 'content-length': 0 });
      res.end();
      return;
    }
    switch (magic) {
      case 'success':
        return sendText(res, 200, 'OK');
      case 'authenticate':
        return auth === `Basic ${ELASTIC}`
          ? sendText(res, 200, 'OK')
          : sendText(res, 403, 'the validateAuthentication operation failed. bad credentials');
      case 'success_post_method':
      case 'success_put_method': {
        const wanted = magic === 'success_post_method' ? 'POST' : 'PUT';
        return req.method === wanted
          ? sendText(res, 200, 'OK')
          : sendText(res, 403, `expected ${wanted}, got ${req.method}`);
      }
      case 'failure':
        return sendText(res, 500, 'Error');
      case 'header_as_payload':
        payloads.push(req.headers);
        return sendText(res, 200, 'OK');
    }
    if (typeof req.json === 'object' && req.json !== null && !Array.isArray(req.json)) {
      payloads.push(req.json);
      return sendText(res, 200, 'OK');
    }
    if (magic.startsWith('payload ')) {
      payloads.push(magic.slice('payload '.length));
      return sendText(res, 200, 'ok');
    }
    sendText(res, 400, `unexpected body ${req.text}`);
  };

  const sim = await startSimulator(handle, options.https ? { https: options.https } : {});
  return Object.assign(sim, { tokenRequests, issuedTokens, clientCertificates });
}

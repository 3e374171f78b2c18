import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 for one request, signed in the Authorization header.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 *
 * Kibana signs Bedrock calls with the `aws4` package; this follows the same choices so the
 * requests match: `Host`, `Content-Length` (when there is a body) and `X-Amz-Date` are added and
 * signed, the payload hash is not sent as a header, and paths are encoded once more for the
 * canonical request (every service but S3).
 */

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  method: string;
  /** `host[:port]`, as in the URL. */
  host: string;
  /** The path as sent on the wire (already percent-encoded once), without the query. */
  path: string;
  /** The query string as sent, without `?`. */
  query?: string;
  /** Headers to send and sign besides the ones signing adds. */
  headers: Record<string, string>;
  body: string;
  region: string;
  service: string;
  credentials: AwsCredentials;
  /** The signing moment; now by default. */
  date?: Date;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

/** Headers aws4 leaves out of the signature: proxies and clients rewrite them. */
const UNSIGNED_HEADERS = new Set([
  'authorization',
  'connection',
  'x-amzn-trace-id',
  'user-agent',
  'expect',
  'presigned-expires',
  'range',
]);

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** encodeURIComponent plus the characters RFC 3986 reserves that it leaves alone. */
export function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `20150830T123600Z`. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[:-]|\.\d{3}/g, '');
}

export function canonicalUri(path: string, service: string): string {
  if (path === '' || path === '/') return '/';
  const isS3 = service === 's3';
  const source = isS3 ? path : path.replace(/\/{2,}/g, '/');
  const segments: string[] = [];
  for (const segment of source.split('/')) {
    if (!isS3 && segment === '..') segments.pop();
    else if (isS3 || segment !== '.') {
      const raw = isS3 ? decodeURIComponent(segment.replace(/\+/g, ' ')) : segment;
      segments.push(encodeRfc3986(raw));
    }
  }
  const joined = segments.join('/');
  const uri = joined.startsWith('/') ? joined : `/${joined}`;
  return isS3 ? uri.replace(/%2F/g, '/') : uri;
}

export function canonicalQuery(query: string | undefined): string {
  if (!query) return '';
  const pairs = query
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const at = part.indexOf('=');
      const key = at === -1 ? part : part.slice(0, at);
      const value = at === -1 ? '' : part.slice(at + 1);
      const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      return [encodeRfc3986(decode(key)), encodeRfc3986(decode(value))] as const;
    });
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  const dated = hmac(`AWS4${secret}`, day);
  return hmac(hmac(hmac(dated, region), service), 'aws4_request');
}

/** The headers to send: the given ones plus Host, Content-Length, X-Amz-Date and Authorization. */
export function signV4(input: SignInput): Record<string, string> {
  const stamp = amzDate(input.date ?? new Date());
  const day = stamp.slice(0, 8);
  const headers: Record<string, string> = { ...input.headers, Host: input.host };
  if (input.body !== '') headers['Content-Length'] = String(Buffer.byteLength(input.body));
  if (input.credentials.sessionToken !== undefined) {
    headers['X-Amz-Security-Token'] = input.credentials.sessionToken;
  }
  headers['X-Amz-Date'] = stamp;

  const signed = Object.entries(headers)
    .filter(([name]) => !UNSIGNED_HEADERS.has(name.toLowerCase()))
    .map(([name, value]) => [name.toLowerCase(), value.trim().replace(/\s+/g, ' ')] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const signedHeaders = signed.map(([name]) => name).join(';');
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalUri(input.path, input.service),
    canonicalQuery(input.query),
    signed.map(([name, value]) => `${name}:${value}\n`).join(''),
    signedHeaders,
    sha256Hex(input.body),
  ].join('\n');
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = [ALGORITHM, stamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = signingKey(input.credentials.secretAccessKey, day, input.region, input.service);
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  headers.Authorization = `${ALGORITHM} Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

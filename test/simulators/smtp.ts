import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

/**
 * A real SMTP server (smtp-server) on 127.0.0.1, port 0, that keeps every message it accepts,
 * raw and parsed, with the envelope and the authenticated user. Like Kibana's simulators it is
 * scripted by magic inputs: a recipient whose local part is `reject-<code>` (e.g.
 * `reject-550@example.com`, `reject-451@example.com`) is refused with that reply code. Two raw
 * TCP servers stand for broken peers: one that never greets, one that drops the connection.
 */

export interface MimePart {
  /** Header names lower-cased; folded lines joined; encoded words decoded. */
  headers: Record<string, string>;
  contentType: string;
  /** The decoded body (for a leaf part). */
  body: string;
  parts: MimePart[];
}

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  /** The user that authenticated, if any. */
  user: string | undefined;
  /** Whether the session ran over TLS (implicit or STARTTLS). */
  secure: boolean;
  raw: string;
  message: MimePart;
  /** The text/plain and text/html bodies, wherever they sit in the tree. */
  text: string | undefined;
  html: string | undefined;
}

export interface SmtpSimulator {
  host: string;
  port: number;
  mails: ReceivedMail[];
  last(): ReceivedMail;
  /** Every AUTH attempt, successful or not. */
  logins: Array<{ username: string; password: string }>;
  connections: number;
  close(): Promise<void>;
}

export interface SmtpSimulatorOptions {
  /** Require these credentials (AUTH PLAIN/LOGIN, allowed without TLS). */
  auth?: { user: string; pass: string };
  /** Implicit TLS from the first byte (smtp-server's built-in, untrusted certificate). */
  secure?: boolean;
  /** Offer STARTTLS (with the same certificate); off by default. */
  startTls?: boolean;
}

const REJECT = /^reject-(\d{3})@/i;

function smtpError(message: string, code: number): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export async function startSmtpSimulator(
  options: SmtpSimulatorOptions = {},
): Promise<SmtpSimulator> {
  const mails: ReceivedMail[] = [];
  const logins: Array<{ username: string; password: string }> = [];
  let connections = 0;
  const auth = options.auth;
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    secure: options.secure === true,
    allowInsecureAuth: true,
    authOptional: auth === undefined,
    disabledCommands: [
      ...(auth === undefined ? ['AUTH'] : []),
      ...(options.startTls === true ? [] : ['STARTTLS']),
    ],
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onAuth(login, _session, callback) {
      const username = login.username ?? '';
      const password = login.password ?? '';
      logins.push({ username, password });
      if (auth !== undefined && username === auth.user && password === auth.pass) {
        callback(null, { user: username });
        return;
      }
      callback(smtpError('Invalid username or password', 535));
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const code = REJECT.exec(address.address)?.[1];
      if (code === undefined) {
        callback();
        return;
      }
      const n = Number(code);
      const text =
        n >= 500
          ? `<${address.address}>: Recipient address rejected: User unknown`
          : `<${address.address}>: Recipient address rejected: Try again later`;
      callback(smtpError(text, n));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const message = parseMime(raw);
        mails.push({
          envelope: {
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
          },
          user: typeof session.user === 'string' ? session.user : undefined,
          secure: session.secure,
          raw,
          message,
          text: findBody(message, 'text/plain'),
          html: findBody(message, 'text/html'),
        });
        callback();
      });
    },
  });
  // Clients that give up mid-handshake (a refused certificate) are not the server's failure.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    mails,
    logins,
    get connections() {
      return connections;
    },
    last() {
      const mail = mails.at(-1);
      if (mail === undefined) throw new Error('the SMTP server received no message');
      return mail;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface BrokenSmtpServer {
  host: string;
  port: number;
  connections: number;
  close(): Promise<void>;
}

/**
 * A peer that breaks the session: `silent` accepts the connection and never greets; `stall`
 * greets, answers EHLO, then never answers MAIL FROM (the client times out either way); `drop`
 * greets, answers EHLO, then closes the connection at MAIL FROM.
 */
export async function startBrokenSmtpServer(
  mode: 'silent' | 'stall' | 'drop',
): Promise<BrokenSmtpServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (mode === 'silent') return;
    socket.write('220 broken.test ESMTP\r\n');
    socket.on('data', (data: Buffer) => {
      const line = data.toString('utf8');
      if (/^(EHLO|HELO)/i.test(line)) socket.write('250-broken.test\r\n250 8BITMIME\r\n');
      else if (mode === 'drop') socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    get connections() {
      return connections;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** RFC 2047 encoded words (`=?UTF-8?Q?...?=`, `=?UTF-8?B?...?=`) in a header value. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, kind: string, data) => {
      if (kind.toUpperCase() === 'B') return Buffer.from(data, 'base64').toString('utf8');
      const bytes = data
        .replace(/_/g, ' ')
        .replace(/=([0-9A-Fa-f]{2})/g, (_e: string, hex: string) => `%${hex}`);
      return decodeURIComponent(bytes);
    });
}

function decodeQuotedPrintable(body: string): string {
  const bytes: number[] = [];
  const text = body.replace(/=\r?\n/g, '');
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = decodeEncodedWords(line.slice(colon + 1).trim());
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

/** A MIME message (or part) into headers, decoded body and sub-parts. */
export function parseMime(raw: string): MimePart {
  const split = /\r?\n\r?\n/.exec(raw);
  const headerBlock = split ? raw.slice(0, split.index) : raw;
  const body = split ? raw.slice(split.index + split[0].length) : '';
  const headers = parseHeaders(headerBlock);
  const contentType = (headers['content-type'] ?? 'text/plain').split(';')[0]?.trim() ?? '';
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (contentType.startsWith('multipart/') && boundary !== undefined) {
    const parts = body
      .split(`--${boundary}`)
      .slice(1)
      .filter((chunk) => !chunk.startsWith('--'))
      .map((chunk) => parseMime(chunk.replace(/^\r?\n/, '').replace(/\r?\n$/, '')));
    return { headers, contentType, body: '', parts };
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  let decoded = body;
  if (encoding === 'quoted-printable') decoded = decodeQuotedPrintable(body);
  else if (encoding === 'base64') decoded = Buffer.from(body, 'base64').toString('utf8');
  return { headers, contentType, body: decoded.replace(/\r\n/g, '\n'), parts: [] };
}

function findBody(part: MimePart, type: string): string | undefined {
  if (part.parts.length === 0) return part.contentType === type ? part.body : undefined;
  for (const child of part.parts) {
    const found = findBody(child, type);
    if (found !== undefined) return found;
  }
  return undefined;
}

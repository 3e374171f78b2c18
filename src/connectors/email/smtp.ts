import type { SMTPTransportOptions } from 'nodemailer/lib/smtp-transport';
import wellKnown from 'nodemailer/lib/well-known';
import type { ConnectorEnv } from '../types.js';
import { SERVICES } from './schema.js';

/** nodemailer is loaded on the first email, not at start-up. */
let nodemailer: Promise<typeof import('nodemailer')> | undefined;
function loadNodemailer(): Promise<typeof import('nodemailer')> {
  nodemailer ??= import('nodemailer');
  return nodemailer;
}

/**
 * SMTP delivery through nodemailer, configured as Kibana configures it: host/port/secure for the
 * `other` service and for Elastic Cloud's relay, nodemailer's own settings for the well-known
 * services (gmail, outlook365, ses, ...), and the JSON transport for `__json`. Every SMTP wait
 * (DNS, connect, the greeting and each reply) is bounded by xpack.actions.responseTimeout.
 */

/** Elastic Cloud's SMTP relay, as deployments see it. */
export const ELASTIC_CLOUD_SMTP = 'smtp://dockerhost:10025';
/** The key of connectors.baseUrls that points the Elastic Cloud relay elsewhere (tests). */
export const ELASTIC_CLOUD_BASE_URL_KEY = '.email:elastic_cloud';

/** Implicit TLS port; https://www.rfc-editor.org/rfc/rfc8314#section-7.3 */
export const SMTPS_PORT = 465;

export interface SmtpEndpoint {
  host: string;
  port: number;
  secure: boolean;
}

export function elasticCloudEndpoint(env: ConnectorEnv): SmtpEndpoint {
  const url = new URL(env.baseUrl(ELASTIC_CLOUD_BASE_URL_KEY, ELASTIC_CLOUD_SMTP));
  return { host: url.hostname, port: url.port === '' ? 10025 : Number(url.port), secure: false };
}

/** The SMTP host a service name stands for, or null when nodemailer does not know it. */
export function serviceHost(service: string, env: ConnectorEnv): string | null {
  if (service === SERVICES.elasticCloud) return elasticCloudEndpoint(env).host;
  const entry = wellKnown(service);
  if (entry === false) return null;
  return entry.host ?? null;
}

/** An unset `secure` means implicit TLS only on the SMTPS port. */
export function secureFor(secure: boolean | null, port: number | null): boolean {
  if (secure !== null) return secure;
  return port === SMTPS_PORT;
}

export type SmtpTarget =
  | { kind: 'json' }
  | { kind: 'service'; service: string }
  | ({ kind: 'host' } & SmtpEndpoint);

export interface Mail {
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo?: string[];
  subject: string;
  html: string;
  text: string;
}

export interface SmtpSendOptions {
  target: SmtpTarget;
  /** Set only when the connector has auth on and both user and password. */
  auth?: { user: string; pass: string };
  /** Whether the connector has any credentials at all (TLS leniency depends on it). */
  hasCredentials: boolean;
  verificationMode: 'none' | 'certificate' | 'full';
  timeoutMs: number;
  signal: AbortSignal;
}

function tlsFor(mode: 'none' | 'certificate' | 'full') {
  if (mode === 'none') return { rejectUnauthorized: false };
  if (mode === 'certificate')
    return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
  return { rejectUnauthorized: true };
}

/** How much longer an idle socket may wait than the setup deadline. */
const SOCKET_IDLE_MARGIN_MS = 100;

function transportOptions(
  target: Exclude<SmtpTarget, { kind: 'json' }>,
  options: SmtpSendOptions,
): SMTPTransportOptions {
  const { timeoutMs } = options;
  const common: SMTPTransportOptions = {
    // The setup (DNS, connect, greeting, STARTTLS) shares one deadline.
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    // Past the setup deadline by more than a busy event loop's jitter, so a server that never
    // greets always fails with "Greeting never received", not with the idle socket's "Timeout".
    socketTimeout: timeoutMs + SOCKET_IDLE_MARGIN_MS,
    ...(options.auth !== undefined ? { auth: options.auth } : {}),
  };
  if (target.kind === 'service') return { ...common, service: target.service };
  // Small relays and test servers that ask for no credentials rarely have a trusted certificate.
  const lenient = !target.secure && !options.hasCredentials;
  return {
    ...common,
    host: target.host,
    port: target.port,
    secure: target.secure,
    tls: lenient ? { rejectUnauthorized: false } : tlsFor(options.verificationMode),
  };
}

/** Send one email; resolves with nodemailer's report, rejects with nodemailer's error. */
export async function sendSmtp(options: SmtpSendOptions, mail: Mail): Promise<unknown> {
  const message = {
    from: mail.from,
    to: mail.to,
    cc: mail.cc,
    bcc: mail.bcc,
    ...(mail.replyTo !== undefined && mail.replyTo.length > 0 ? { replyTo: mail.replyTo } : {}),
    subject: mail.subject,
    html: mail.html,
    text: mail.text,
    signal: options.signal,
  };
  const { target } = options;
  if (target.kind === 'json') {
    const { createTransport } = await loadNodemailer();
    const info = await createTransport({ jsonTransport: true }).sendMail(message);
    return { ...info, message: parseJson(info.message) };
  }
  const { createTransport } = await loadNodemailer();
  const transport = createTransport(transportOptions(target, options));
  try {
    return await transport.sendMail(message);
  } finally {
    transport.close();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** SMTP reply classes: 4yz is transient, 5yz permanent; https://www.rfc-editor.org/rfc/rfc5321#section-4.2.1 */
const TRANSIENT_NETWORK_CODES = new Set(['ETIMEDOUT', 'ECONNECTION', 'ESOCKET', 'EDNS']);

/** A refused certificate or TLS setup will fail the same way next time. */
const TLS_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO|TLS|SSL/;

/** Whether trying the same email again later may succeed. */
export function smtpRetry(err: unknown): boolean {
  const e = err as { responseCode?: unknown; code?: unknown; originalCode?: unknown };
  if (typeof e.responseCode === 'number') return e.responseCode >= 400 && e.responseCode < 500;
  if (typeof e.originalCode === 'string' && TLS_FAILURE.test(e.originalCode)) return false;
  return typeof e.code === 'string' && TRANSIENT_NETWORK_CODES.has(e.code);
}

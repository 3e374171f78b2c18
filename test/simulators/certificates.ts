import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Throw-away TLS material made with `openssl` for each test run: a CA, server certificates (one
 * valid for 127.0.0.1, one for another name), and a client certificate as PEM, as an encrypted
 * key, and as a PFX. Nothing here is a real key; it lives in a temporary folder only.
 */

export interface TestCertificates {
  caCert: string;
  /** A CA that signed nothing here: trusting only it fails verification. */
  otherCaCert: string;
  serverCert: string;
  serverKey: string;
  /** Signed by the CA, but for `wrong.example`, not 127.0.0.1. */
  wrongNameCert: string;
  wrongNameKey: string;
  clientCert: string;
  clientKey: string;
  /** The client key encrypted with CLIENT_KEY_PASSPHRASE. */
  clientKeyEncrypted: string;
  /** The client certificate and key as PKCS#12, protected by PFX_PASSWORD. */
  clientPfx: Buffer;
}

export const CLIENT_KEY_PASSPHRASE = 'client-key-passphrase-7Hq';
export const PFX_PASSWORD = 'pfx-password-Zr4';
export const CLIENT_CN = 'webhook-test-client';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'kcs-certs-'));
  try {
    openssl(
      [
        'req',
        '-x509',
        ...EC,
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '2',
        '-subj',
        '/CN=Test CA',
      ],
      dir,
    );
    openssl(
      [
        'req',
        '-x509',
        ...EC,
        '-keyout',
        'other-ca.key',
        '-out',
        'other-ca.crt',
        '-days',
        '2',
        '-subj',
        '/CN=Other CA',
      ],
      dir,
    );
    const leaf = (name: string, cn: string, san?: string) =>
      openssl(
        [
          'req',
          '-x509',
          ...EC,
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-keyout',
          `${name}.key`,
          '-out',
          `${name}.crt`,
          '-days',
          '2',
          '-subj',
          `/CN=${cn}`,
          ...(san ? ['-addext', `subjectAltName=${san}`] : []),
        ],
        dir,
      );
    leaf('server', '127.0.0.1', 'IP:127.0.0.1,DNS:localhost');
    leaf('wrong', 'wrong.example', 'DNS:wrong.example');
    leaf('client', CLIENT_CN);
    openssl(
      [
        'pkey',
        '-in',
        'client.key',
        '-aes256',
        '-passout',
        `pass:${CLIENT_KEY_PASSPHRASE}`,
        '-out',
        'client-enc.key',
      ],
      dir,
    );
    openssl(
      [
        'pkcs12',
        '-export',
        '-in',
        'client.crt',
        '-inkey',
        'client.key',
        '-out',
        'client.p12',
        '-passout',
        `pass:${PFX_PASSWORD}`,
      ],
      dir,
    );
    const text = (f: string) => readFileSync(join(dir, f), 'utf8');
    return {
      caCert: text('ca.crt'),
      otherCaCert: text('other-ca.crt'),
      serverCert: text('server.crt'),
      serverKey: text('server.key'),
      wrongNameCert: text('wrong.crt'),
      wrongNameKey: text('wrong.key'),
      clientCert: text('client.crt'),
      clientKey: text('client.key'),
      clientKeyEncrypted: text('client-enc.key'),
      clientPfx: readFileSync(join(dir, 'client.p12')),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const base64 = (value: string | Buffer) =>
  (typeof value === 'string' ? Buffer.from(value) : value).toString('base64');

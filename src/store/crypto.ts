import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for connector secrets. The 256-bit key is derived from the configured encryption
 * key with HKDF-SHA256; every blob names the key it was sealed with (so a rotated-out key can
 * still open old blobs) and is bound to its owner through the associated data, so a blob copied
 * onto another connector, space or type does not decrypt.
 *
 * Blob format: `v1.<keyId>.<iv>.<tag>.<ciphertext>`, each part base64url.
 */
const VERSION = 'v1';
const SALT = Buffer.from('kcs/connector-secrets/v1');
const INFO = Buffer.from('aes-256-gcm');

export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

interface DerivedKey {
  id: string;
  key: Buffer;
}

function derive(secret: string): DerivedKey {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), SALT, INFO, 32));
  const id = createHash('sha256').update(key).digest('base64url').slice(0, 8);
  return { id, key };
}

/** How many blob checks problemWith remembers. */
const CHECKED_MAX = 20_000;

/** Why a blob does not open: sealed with a key we do not hold, or damaged / moved / malformed. */
export type SealProblem = 'unknown_key' | 'unreadable';

export class SecretsCipher {
  private readonly primary: DerivedKey;
  private readonly byId: Map<string, DerivedKey>;
  private readonly decryptionOnly: ReadonlySet<string>;
  private readonly checked = new Map<string, SealProblem | 'ok'>();

  constructor(encryptionKey: string, decryptionOnlyKeys: readonly string[] = []) {
    this.primary = derive(encryptionKey);
    const old = decryptionOnlyKeys.map(derive).filter((k) => k.id !== this.primary.id);
    this.byId = new Map([this.primary, ...old].map((k) => [k.id, k]));
    this.decryptionOnly = new Set(old.map((k) => k.id));
  }

  /** Identifies the key new blobs are sealed with. */
  get keyId(): string {
    return this.primary.id;
  }

  /** Whether any decryption-only key is configured (key rotation is possible). */
  get canRotate(): boolean {
    return this.decryptionOnly.size > 0;
  }

  /** Whether a blob names one of the decryption-only keys (it is due for rotation). */
  isSealedWithOldKey(blob: string): boolean {
    const keyId = SecretsCipher.keyIdOf(blob);
    return keyId !== undefined && this.decryptionOnly.has(keyId);
  }

  /**
   * Why a blob cannot be opened under this associated data, or undefined when it can. Answers are
   * remembered (a blob never changes: a new one has a new IV), so listing connectors does not
   * decrypt every one of them each time.
   */
  problemWith(blob: string, associatedData: string): SealProblem | undefined {
    const memo = `${associatedData}\n${blob}`;
    const known = this.checked.get(memo);
    if (known !== undefined) return known === 'ok' ? undefined : known;
    let answer: SealProblem | 'ok' = 'ok';
    try {
      this.decrypt(blob, associatedData);
    } catch (err) {
      if (!(err instanceof DecryptionError)) throw err;
      const keyId = SecretsCipher.keyIdOf(blob);
      answer = keyId !== undefined && !this.byId.has(keyId) ? 'unknown_key' : 'unreadable';
    }
    if (this.checked.size >= CHECKED_MAX) this.checked.clear();
    this.checked.set(memo, answer);
    return answer === 'ok' ? undefined : answer;
  }

  encrypt(value: unknown, associatedData: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.primary.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const plain = Buffer.from(JSON.stringify(value), 'utf8');
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      VERSION,
      this.primary.id,
      iv.toString('base64url'),
      tag.toString('base64url'),
      sealed.toString('base64url'),
    ].join('.');
  }

  decrypt(blob: string, associatedData: string): unknown {
    const parts = blob.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION)
      throw new DecryptionError('Unrecognized secrets format');
    const [, keyId, iv, tag, sealed] = parts as [string, string, string, string, string];
    const key = this.byId.get(keyId);
    if (key === undefined) throw new DecryptionError('Secrets were encrypted with an unknown key');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plain = Buffer.concat([
        decipher.update(Buffer.from(sealed, 'base64url')),
        decipher.final(),
      ]);
      return JSON.parse(plain.toString('utf8'));
    } catch {
      throw new DecryptionError('Unable to decrypt secrets');
    }
  }

  /** The key id a blob was sealed with, or undefined for a malformed blob. */
  static keyIdOf(blob: string): string | undefined {
    const parts = blob.split('.');
    return parts.length === 5 ? parts[1] : undefined;
  }
}

/** Associated data binding a connector's secrets to its space, type and id. */
export function connectorAad(spaceId: string, typeId: string, id: string): string {
  return JSON.stringify(['action', spaceId, typeId, id]);
}

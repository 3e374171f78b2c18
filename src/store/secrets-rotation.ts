import type { Logger } from 'pino';
import { connectorAad, type SealProblem, type SecretsCipher } from './crypto.js';
import type { ConnectorRepository, Store } from './types.js';

/**
 * Encryption key rotation as Kibana's Encrypted Saved Objects plugin does it
 * (`POST /api/encrypted_saved_objects/_rotate_key`): every connector whose secrets are still sealed
 * with one of `xpack.encryptedSavedObjects.keyRotation.decryptionOnlyKeys` is opened with that key
 * and sealed again with the primary key. Blobs no configured key opens are skipped, as Kibana
 * skips them; `undecryptable()` lists them instead.
 */

/** The saved-object type whose attributes are encrypted here. */
export const ENCRYPTED_TYPE = 'action';

export interface RotationResult {
  /** Every connector of the rotated type(s). */
  total: number;
  /** Sealed with a decryption-only key and now sealed with the primary key. */
  successful: number;
  /** Sealed with a decryption-only key but not rewritten (changed meanwhile, or failed). */
  failed: number;
}

export interface UndecryptableConnector {
  id: string;
  spaceId: string;
  name: string;
  typeId: string;
  reason: SealProblem;
}

export class SecretsRotation {
  private readonly connectors: ConnectorRepository;

  constructor(
    private readonly store: Store,
    private readonly cipher: SecretsCipher,
    private readonly log: Logger,
  ) {
    this.connectors = store.connectors;
  }

  get configured(): boolean {
    return this.cipher.canRotate;
  }

  async rotate(options: { batchSize: number; type?: string }): Promise<RotationResult> {
    const result: RotationResult = { total: 0, successful: 0, failed: 0 };
    if (options.type !== undefined && options.type !== ENCRYPTED_TYPE) {
      this.log.info(
        `Saved Object type "${options.type}" is not registered, encryption key rotation is not needed.`,
      );
      return result;
    }
    let after: string | undefined;
    for (;;) {
      const batch = await this.connectors.page(after, options.batchSize);
      if (batch.length === 0) break;
      after = batch.at(-1)?.id;
      result.total += batch.length;
      for (const c of batch) {
        if (c.secrets === null || !this.cipher.isSealedWithOldKey(c.secrets)) continue;
        const aad = connectorAad(c.spaceId, c.typeId, c.id);
        let plain: unknown;
        try {
          plain = this.cipher.decrypt(c.secrets, aad);
        } catch {
          continue;
        }
        try {
          const sealed = this.cipher.encrypt(plain, aad);
          if (await this.connectors.replaceSecrets(c.spaceId, c.id, c.secrets, sealed)) {
            result.successful += 1;
          } else {
            result.failed += 1;
          }
        } catch (err) {
          this.log.error({ err, connector: c.id }, 'unable to re-encrypt connector secrets');
          result.failed += 1;
        }
      }
    }
    if (result.successful > 0) await this.store.checkpoint();
    this.log.info(
      `Encryption key rotation is completed. ${result.successful} objects out of ${result.total} were successfully re-encrypted with the primary encryption key and ${result.failed} objects failed.`,
    );
    return result;
  }

  /** Connectors whose stored secrets no configured key can open, across every space. */
  async undecryptable(batchSize = 1000): Promise<UndecryptableConnector[]> {
    const out: UndecryptableConnector[] = [];
    let after: string | undefined;
    for (;;) {
      const batch = await this.connectors.page(after, batchSize);
      if (batch.length === 0) break;
      after = batch.at(-1)?.id;
      for (const c of batch) {
        if (c.secrets === null) continue;
        const reason = this.cipher.problemWith(c.secrets, connectorAad(c.spaceId, c.typeId, c.id));
        if (reason !== undefined) {
          out.push({ id: c.id, spaceId: c.spaceId, name: c.name, typeId: c.typeId, reason });
        }
      }
    }
    return out;
  }
}

import { randomBytes } from 'node:crypto';
import { parseDuration } from '../config/units.js';
import { badRequest } from '../errors.js';
import type { ApiKeyRepository } from '../store/types.js';
import { hashSecret } from './passwords.js';
import type { Principal } from './principal.js';

/**
 * API keys as Elasticsearch mints them for Kibana's `POST /internal/security/api_key`: an id, a
 * secret shown once, and `encoded` = base64(id:secret) for `Authorization: ApiKey <encoded>`.
 * Only a slow hash of the secret is stored.
 */

export interface CreateApiKeyInput {
  name: string;
  expiration?: string;
  roleDescriptors: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

export interface CreatedApiKey {
  id: string;
  name: string;
  expiration?: number;
  api_key: string;
  encoded: string;
}

export class ApiKeyService {
  constructor(private readonly repo: ApiKeyRepository) {}

  async create(owner: Principal, input: CreateApiKeyInput): Promise<CreatedApiKey> {
    let expiration: number | undefined;
    if (input.expiration !== undefined) {
      const ms = parseDuration(input.expiration);
      if (ms === undefined || !/[a-z]$/i.test(input.expiration.trim())) {
        throw badRequest(
          `failed to parse setting [expiration] with value [${input.expiration}] as a time value: unit is missing or unrecognized`,
        );
      }
      expiration = Date.now() + ms;
    }
    const id = randomBytes(15).toString('base64url');
    const secret = randomBytes(16).toString('base64url');
    await this.repo.create({
      id,
      name: input.name,
      hash: await hashSecret(secret),
      username: owner.username,
      roleDescriptors: input.roleDescriptors,
      metadata: input.metadata ?? {},
      createdAt: Date.now(),
      expiration: expiration ?? null,
      invalidated: false,
    });
    return {
      id,
      name: input.name,
      ...(expiration !== undefined ? { expiration } : {}),
      api_key: secret,
      encoded: Buffer.from(`${id}:${secret}`).toString('base64'),
    };
  }
}

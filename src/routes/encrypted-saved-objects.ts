import { badRequest, HttpError } from '../errors.js';
import { RotateKeyQuery, RotateKeyResponse, UndecryptableResponse } from '../schemas/security.js';
import type { Authorization } from '../security/authorization.js';
import type { SecretsRotation } from '../store/secrets-rotation.js';
import { errorResponses, type TypedApp } from './common.js';

/**
 * Kibana's encryption key rotation route, and a listing of the connectors whose secrets no
 * configured key can open (they show `is_missing_secrets: true` and fail to run; updating them
 * with their secrets stores them again).
 */

const TAGS = ['saved objects'];
const ROTATE_PATH = '/api/encrypted_saved_objects/_rotate_key';
const UNDECRYPTABLE_PATH = '/internal/encrypted_saved_objects/_undecryptable';

export const ROTATION_NOT_CONFIGURED =
  'Kibana is not configured to support encryption key rotation. Update `kibana.yml` to include `xpack.encryptedSavedObjects.keyRotation.decryptionOnlyKeys` to rotate your encryption keys.';

export const ROTATION_IN_PROGRESS =
  'Encryption key rotation is in progress already. Please wait until it is completed and try again.';

export function encryptedSavedObjectsRoutes(
  app: TypedApp,
  rotation: SecretsRotation,
  authorization: Authorization,
): void {
  let rotating = false;

  app.post(
    ROTATE_PATH,
    {
      schema: {
        summary: 'Rotate a key for encrypted saved objects',
        description:
          'Re-encrypts with the primary key (`xpack.encryptedSavedObjects.encryptionKey`) every connector whose secrets are still sealed with one of `xpack.encryptedSavedObjects.keyRotation.decryptionOnlyKeys`. Superusers only.',
        tags: TAGS,
        querystring: RotateKeyQuery,
        response: { 200: RotateKeyResponse, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const principal = request.principal;
      if (principal === undefined) throw new Error('route requires an authenticated caller');
      authorization.ensureSuperuser(principal, 'POST', ROTATE_PATH);
      if (!rotation.configured) throw badRequest(ROTATION_NOT_CONFIGURED);
      if (rotating) throw new HttpError(429, ROTATION_IN_PROGRESS);
      rotating = true;
      try {
        return await rotation.rotate({
          batchSize: request.query.batch_size,
          ...(request.query.type !== undefined ? { type: request.query.type } : {}),
        });
      } finally {
        rotating = false;
      }
    },
  );

  app.get(
    UNDECRYPTABLE_PATH,
    {
      schema: {
        summary: 'Connectors whose secrets cannot be decrypted',
        description:
          "Every space's connectors whose stored secrets no configured key opens (`unknown_key`: sealed with a key not configured; `unreadable`: damaged or moved). Superusers only.",
        tags: TAGS,
        response: { 200: UndecryptableResponse, ...errorResponses(401, 403) },
      },
    },
    async (request) => {
      const principal = request.principal;
      if (principal === undefined) throw new Error('route requires an authenticated caller');
      authorization.ensureSuperuser(principal, 'GET', UNDECRYPTABLE_PATH);
      const found = await rotation.undecryptable();
      return {
        total: found.length,
        connectors: found.map((c) => ({
          id: c.id,
          name: c.name,
          connector_type_id: c.typeId,
          space_id: c.spaceId,
          is_missing_secrets: true,
          reason: c.reason,
        })),
      };
    },
  );
}

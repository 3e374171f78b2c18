import { Type } from '@sinclair/typebox';
import { ok } from '../../src/connectors/result.js';
import { defineConnector } from '../../src/connectors/types.js';
import { StrictObject } from '../../src/schemas/common.js';

/** A connector type with secrets, for tests of the framework (not registered in the server). */
export const secretEchoConnector = defineConnector({
  id: '.test-secret',
  name: 'Test secret',
  minimumLicenseRequired: 'basic',
  supportedFeatureIds: ['alerting'],
  schema: {
    config: StrictObject({ label: Type.String({ default: 'x' }) }, { default: {} }),
    secrets: StrictObject({ token: Type.String() }),
    params: StrictObject({ echo: Type.Optional(Type.String()) }),
  },
  async execute({ secrets, params }) {
    // Proves the secret was decrypted without ever returning it.
    return ok({ tokenLength: secrets.token.length, echo: params.echo ?? null });
  },
});

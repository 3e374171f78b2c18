import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StrictObject } from '../../schemas/common.js';
import {
  CommentsSchema,
  CommonAttributes,
  GetChoicesParamsSchema,
  GetFieldsParamsSchema,
  GetIncidentParamsSchema,
  HandshakeParamsSchema,
} from '../lib/servicenow/schema.js';
import { subActionBranch } from '../lib/sub_action_table.js';

export { ConfigSchema, SecretsSchema } from '../lib/servicenow/schema.js';

/** One observable, a list of them, or several in one text (split on spaces, commas, pipes...). */
const Observables = () =>
  Type.Union([Type.String(), Type.Array(Type.String()), Type.Null()], { default: null });

export const PushToServiceParamsSchema = StrictObject({
  incident: StrictObject({
    ...CommonAttributes,
    dest_ip: Observables(),
    malware_hash: Observables(),
    malware_url: Observables(),
    source_ip: Observables(),
    priority: Nullable(Type.String(), { default: null }),
  }),
  comments: CommentsSchema,
});
export type SirPushParams = Static<typeof PushToServiceParamsSchema>;

export const ParamsSchema = Type.Union([
  subActionBranch('getFields', GetFieldsParamsSchema),
  subActionBranch('getIncident', GetIncidentParamsSchema),
  subActionBranch('handshake', HandshakeParamsSchema),
  subActionBranch('pushToService', PushToServiceParamsSchema),
  subActionBranch('getChoices', GetChoicesParamsSchema),
]);
export type SirParams = Static<typeof ParamsSchema>;

import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StrictObject } from '../../schemas/common.js';
import {
  CloseIncidentParamsSchema,
  CommentsSchema,
  CommonAttributes,
  GetChoicesParamsSchema,
  GetFieldsParamsSchema,
  GetIncidentParamsSchema,
  HandshakeParamsSchema,
} from '../lib/servicenow/schema.js';
import { subActionBranch } from '../lib/sub_action_table.js';

export { ConfigSchema, SecretsSchema } from '../lib/servicenow/schema.js';

const nullableString = () => Nullable(Type.String(), { default: null });

export const PushToServiceParamsSchema = StrictObject({
  incident: StrictObject({
    ...CommonAttributes,
    severity: nullableString(),
    urgency: nullableString(),
    impact: nullableString(),
  }),
  comments: CommentsSchema,
});

export const ParamsSchema = Type.Union([
  subActionBranch('getFields', GetFieldsParamsSchema),
  subActionBranch('getIncident', GetIncidentParamsSchema),
  subActionBranch('handshake', HandshakeParamsSchema),
  subActionBranch('pushToService', PushToServiceParamsSchema),
  subActionBranch('getChoices', GetChoicesParamsSchema),
  subActionBranch('closeIncident', CloseIncidentParamsSchema),
]);
export type ItsmParams = Static<typeof ParamsSchema>;

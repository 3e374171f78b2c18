import { type Static, Type } from '@sinclair/typebox';
import { AnyRecord, Nullable, StrictObject } from '../../schemas/common.js';
import { withCheck } from '../../schemas/validate.js';
import { extraFieldsRule } from '../lib/extra_fields.js';
import { subActionBranch } from '../lib/sub_action_table.js';

/** Kibana's cap on `otherFields` keys: https://www.elastic.co/docs/reference/kibana/connectors-kibana/jira-action-type */
export const MAX_OTHER_FIELDS_LENGTH = 20;

export const ConfigSchema = StrictObject({
  apiUrl: Type.String(),
  projectKey: Type.String(),
});
export type JiraConfig = Static<typeof ConfigSchema>;

export const SecretsSchema = StrictObject({
  email: Type.String(),
  apiToken: Type.String(),
});
export type JiraSecrets = Static<typeof SecretsSchema>;

const nullableString = () => Nullable(Type.String(), { default: null });

const INCIDENT_PROPERTIES = [
  'summary',
  'description',
  'externalId',
  'issueType',
  'priority',
  'labels',
  'parent',
  'otherFields',
] as const;

const Label = withCheck(Type.String(), (label) =>
  typeof label === 'string' && /\s/.test(label)
    ? `The label ${label} cannot contain spaces`
    : undefined,
);

export const IncidentSchema = StrictObject({
  summary: Type.String(),
  description: nullableString(),
  externalId: nullableString(),
  issueType: nullableString(),
  priority: nullableString(),
  labels: Nullable(Type.Array(Label), { default: null }),
  parent: nullableString(),
  otherFields: withCheck(
    Type.Union([AnyRecord(), Type.String(), Type.Null()], { default: null }),
    extraFieldsRule('otherFields', INCIDENT_PROPERTIES, MAX_OTHER_FIELDS_LENGTH),
  ),
});
export type JiraIncidentParams = Static<typeof IncidentSchema>;

export const CommentsSchema = Nullable(
  Type.Array(StrictObject({ comment: Type.String(), commentId: Type.String() })),
  { default: null },
);

export const PushToServiceParamsSchema = StrictObject({
  incident: IncidentSchema,
  comments: CommentsSchema,
});

/** Sub-actions without params may leave subActionParams out (the docs example does). */
const NoParams = () => StrictObject({}, { default: {} });

export const ParamsSchema = Type.Union([
  subActionBranch('getFields', AnyRecord({ default: {} })),
  subActionBranch('getIncident', StrictObject({ externalId: Type.String() })),
  subActionBranch('handshake', NoParams()),
  subActionBranch('pushToService', PushToServiceParamsSchema),
  subActionBranch('issueTypes', NoParams()),
  subActionBranch('fieldsByIssueType', StrictObject({ id: Type.String() })),
  subActionBranch('issues', StrictObject({ title: Type.String() })),
  subActionBranch('issue', StrictObject({ id: Type.String() })),
]);
export type JiraParams = Static<typeof ParamsSchema>;

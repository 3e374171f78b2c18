import { asRecord } from '../extra_fields.js';
import type { ServiceNowProduct } from './config.js';
import type { ServiceNowSecrets } from './schema.js';
import type { Incident, PushedIncident, ServiceNowService } from './service.js';

/**
 * The sub-actions the ServiceNow types share, on top of the service: push an incident (create or
 * update, then one update per comment), close one, read fields and choices.
 */

export interface PushParams {
  incident: Record<string, unknown> & {
    externalId: string | null;
    additional_fields: Record<string, unknown> | string | null;
  };
  comments: Array<{ comment: string; commentId: string }> | null;
}

export type PushResult = PushedIncident & {
  comments?: Array<{ commentId: string; pushedDate: string }>;
};

export async function pushToService(
  service: ServiceNowService,
  product: ServiceNowProduct,
  secrets: ServiceNowSecrets,
  params: PushParams,
): Promise<PushResult> {
  const { externalId, additional_fields: additional, ...rest } = params.incident;
  const incident: Incident = { ...rest, additional_fields: asRecord(additional) };
  const pushed: PushResult =
    externalId != null
      ? await service.updateIncident(externalId, incident)
      : await service.createIncident({
          ...incident,
          caller_id: secrets.username,
          opened_by: secrets.username,
        });
  if (params.comments && params.comments.length > 0) {
    pushed.comments = [];
    for (const comment of params.comments) {
      await service.updateIncident(String(pushed.id), {
        ...incident,
        [product.commentFieldKey]: comment.comment,
      });
      pushed.comments.push({ commentId: comment.commentId, pushedDate: pushed.pushedDate });
    }
  }
  return pushed;
}

export function closeIncident(
  service: ServiceNowService,
  params: { incident: { externalId: string | null; correlation_id: string | null } },
) {
  return service.closeIncident({
    incidentId: params.incident.externalId,
    correlationId: params.incident.correlation_id,
  });
}

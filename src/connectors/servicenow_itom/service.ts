import { guarded, type ServiceNowService } from '../lib/servicenow/service.js';
import type { AddEventParams } from './schema.js';

/**
 * Event Management's web service API takes events in bulk; Kibana sends one event per run, its
 * time reformatted the way ServiceNow reads it and its empty fields left out.
 */

/** Epoch milliseconds written as digits, else the text itself (Kibana's convertTimestamp). */
function convertTimestamp(timestamp: string | null): string | number | null {
  const trimmed = timestamp?.trim() ?? '';
  if (trimmed === '') return null;
  const parsed = Number.parseInt(trimmed, 10);
  return !Number.isNaN(parsed) && JSON.stringify(parsed) === trimmed ? parsed : trimmed;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `yyyy-MM-dd HH:mm:ss` in GMT, or undefined when the time cannot be read. */
export function formatTimeOfEvent(timeOfEvent: string | null): string | undefined {
  const converted = convertTimestamp(timeOfEvent);
  if (converted === null) return undefined;
  const date = new Date(converted);
  if (Number.isNaN(date.valueOf())) return undefined;
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

export function prepareEvent(params: AddEventParams): Record<string, string> {
  const event: Record<string, string | null> = {
    ...params,
    time_of_event: formatTimeOfEvent(params.time_of_event) ?? null,
  };
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(event)) if (value != null) out[key] = value;
  return out;
}

export function addEvent(service: ServiceNowService, params: AddEventParams): Promise<void> {
  return guarded('Unable to add event', undefined, async () => {
    const res = await service.request('POST', `${service.url}/api/global/em/jsonv2`, {
      records: [prepareEvent(params)],
    });
    service.checkInstance(res);
  });
}

import { fail, retryAt } from '../result.js';
import type { ConnectorResultError, ErrorSource } from '../types.js';

/** The result texts Kibana's two Slack types share. */
export const SLACK_TEXTS = {
  posting: 'error posting slack message',
  retryLater: 'error posting a slack message, retry later',
  nullResponse: 'unexpected null response from slack',
} as const;

export function slackRetryAtMessage(iso: string): string {
  return `error posting a slack message, retry at ${iso}`;
}

export function slackUnexpectedHttpMessage(status: number, statusText: string): string {
  return `unexpected http response from slack: ${status} ${statusText}`;
}

export function slackServiceError(serviceMessage: string | undefined): ConnectorResultError {
  return fail(SLACK_TEXTS.posting, serviceMessage === undefined ? {} : { serviceMessage });
}

export function slackRetryLater(
  options: { serviceMessage?: string; errorSource?: ErrorSource } = {},
): ConnectorResultError {
  return fail(SLACK_TEXTS.retryLater, { retry: true, ...options });
}

export function slackRetryAt(
  seconds: number,
  serviceMessage: string,
  errorSource?: ErrorSource,
): ConnectorResultError {
  const { date, iso } = retryAt(seconds);
  return fail(slackRetryAtMessage(iso), {
    retry: date,
    serviceMessage,
    ...(errorSource !== undefined ? { errorSource } : {}),
  });
}

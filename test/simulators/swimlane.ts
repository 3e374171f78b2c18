import type { ServerResponse } from 'node:http';
import { type RecordedRequest, type Simulator, sendJson, startSimulator } from './base.js';
import { answerMagic, caseSystemScript, magicIn } from './magic.js';

/**
 * Swimlane REST API (`/api`), as far as the .swimlane connector uses it: records of an
 * application (create, PATCH) and comments on a record's comments field. Requests need the
 * `Private-Token` header. The application knows its field ids: values under other ids are
 * refused, and comments only go to a comments field. Errors are Swimlane's
 * `{ErrorCode, Argument, Message}` bodies. Scripted failures: see caseSystemScript in magic.ts.
 */

export const SWIMLANE_CREATED = '2021-06-01T17:29:51.092Z';
export const SWIMLANE_MODIFIED = '2021-06-01T18:02:11.431Z';

export interface SwimlaneApp {
  id: string;
  acronym: string;
  /** Field ids of the application's fields. */
  fieldIds: readonly string[];
  /** Field ids of its comments fields. */
  commentFieldIds: readonly string[];
}

export interface SwimlaneOptions {
  apiToken: string;
  app: SwimlaneApp;
}

export interface SwimlaneRecord {
  id: string;
  name: string;
  applicationId: string;
  createdDate: string;
  modifiedDate: string;
  values: Record<string, unknown>;
  comments: Record<string, Array<{ message: string; createdDate: string; isRichText: boolean }>>;
}

export interface SwimlaneSimulator extends Simulator {
  records: Map<string, SwimlaneRecord>;
}

function swimlaneError(code: number, argument: string, message: string) {
  return { ErrorCode: code, Argument: argument, Message: message };
}

const SCRIPTED: Record<number, [number, string, string]> = {
  400: [1051, 'values', 'The record is not valid'],
  403: [1002, 'Application', 'Access denied'],
  404: [1003, 'Record', 'Record not found'],
  429: [1010, 'Request', 'Rate limit exceeded'],
  500: [1000, 'Server', 'An unexpected error occurred'],
};

export async function startSwimlaneSimulator(options: SwimlaneOptions): Promise<SwimlaneSimulator> {
  const records = new Map<string, SwimlaneRecord>();
  let sequence = 1;

  const handle = (req: RecordedRequest, res: ServerResponse): void => {
    if (req.headers['private-token'] !== options.apiToken) {
      sendJson(res, 401, swimlaneError(1001, 'Private-Token', 'Invalid or expired token'));
      return;
    }
    const match = /^\/api\/app\/([^/]+)\/record(?:\/([^/]+)(?:\/([^/]+)\/comment)?)?$/.exec(
      req.path,
    );
    if (match === null) {
      sendJson(res, 404, swimlaneError(1004, 'Route', `No route for ${req.method} ${req.path}`));
      return;
    }
    const [, appId, recordId, commentFieldId] = match;
    if (appId !== options.app.id) {
      sendJson(res, 404, swimlaneError(1034, 'Application', `Application ${appId} not found`));
      return;
    }
    if (
      answerMagic(
        magicIn(req.text),
        res,
        caseSystemScript(res, (s) => {
          const [code, argument, message] = SCRIPTED[s] ?? [1000, 'Server', 'Error'];
          return swimlaneError(code, argument, message);
        }),
      )
    ) {
      return;
    }
    const body = (req.json ?? {}) as Record<string, unknown>;
    /** Answers Swimlane's 400 for a value of a field the application lacks; whether it did. */
    const refuseUnknownField = (values: Record<string, unknown>): boolean => {
      const unknown = Object.keys(values).find((k) => !options.app.fieldIds.includes(k));
      if (unknown === undefined) return false;
      sendJson(res, 400, swimlaneError(1052, unknown, `Field ${unknown} not found`));
      return true;
    };

    if (recordId === undefined && req.method === 'POST') {
      if (body.applicationId !== appId) {
        sendJson(res, 400, swimlaneError(1051, 'applicationId', 'applicationId does not match'));
        return;
      }
      const values = (body.values ?? {}) as Record<string, unknown>;
      if (refuseUnknownField(values)) return;
      const record: SwimlaneRecord = {
        id: `aKPmBHWzmdRQtx6M${sequence}`,
        name: `${options.app.acronym}-${sequence}`,
        applicationId: appId,
        createdDate: SWIMLANE_CREATED,
        modifiedDate: SWIMLANE_CREATED,
        values,
        comments: {},
      };
      sequence += 1;
      records.set(record.id, record);
      sendJson(res, 200, { ...record, isNew: true, allowed: [], trackingFull: `${record.name}` });
      return;
    }

    const record = recordId === undefined ? undefined : records.get(recordId);
    if (record === undefined) {
      sendJson(res, 404, swimlaneError(1003, 'Record', `Record ${String(recordId)} not found`));
      return;
    }

    if (commentFieldId === undefined && req.method === 'PATCH') {
      if (body.id !== record.id || body.applicationId !== appId) {
        sendJson(res, 400, swimlaneError(1051, 'id', 'The record id does not match'));
        return;
      }
      const values = (body.values ?? {}) as Record<string, unknown>;
      if (refuseUnknownField(values)) return;
      Object.assign(record.values, values);
      record.modifiedDate = SWIMLANE_MODIFIED;
      sendJson(res, 200, record);
      return;
    }

    if (commentFieldId !== undefined && req.method === 'POST') {
      if (
        !options.app.commentFieldIds.includes(commentFieldId) ||
        body.fieldId !== commentFieldId
      ) {
        sendJson(
          res,
          400,
          swimlaneError(1053, 'fieldId', `${commentFieldId} is not a comments field`),
        );
        return;
      }
      if (typeof body.message !== 'string' || typeof body.createdDate !== 'string') {
        sendJson(res, 400, swimlaneError(1051, 'message', 'message and createdDate are required'));
        return;
      }
      const list = record.comments[commentFieldId] ?? [];
      list.push({
        message: body.message,
        createdDate: body.createdDate,
        isRichText: body.isRichText === true,
      });
      record.comments[commentFieldId] = list;
      res.writeHead(204);
      res.end();
      return;
    }

    sendJson(res, 405, swimlaneError(1005, 'Method', `${req.method} is not supported`));
  };

  const simulator = await startSimulator(handle);
  return Object.assign(simulator, { records });
}

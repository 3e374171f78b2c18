/**
 * What differs between the ServiceNow products Kibana talks to: the table incidents live in, the
 * Elastic ServiceNow application's import set table and scope, and whether the product goes
 * through that application at all.
 */

export interface ServiceNowProduct {
  table: string;
  importSetTable: string;
  appScope: string;
  /** false: the Table API only, whatever the connector's usesTableApi says. */
  useImportAPI: boolean;
  commentFieldKey: string;
}

export const SERVICENOW_ITSM: ServiceNowProduct = {
  table: 'incident',
  importSetTable: 'x_elas2_inc_int_elastic_incident',
  appScope: 'x_elas2_inc_int',
  useImportAPI: true,
  commentFieldKey: 'work_notes',
};

export const SERVICENOW_SIR: ServiceNowProduct = {
  table: 'sn_si_incident',
  importSetTable: 'x_elas2_sir_int_elastic_si_incident',
  appScope: 'x_elas2_sir_int',
  useImportAPI: true,
  commentFieldKey: 'work_notes',
};

export const SERVICENOW_ITOM: ServiceNowProduct = {
  table: 'em_event',
  importSetTable: 'x_elas2_inc_int_elastic_incident',
  appScope: 'x_elas2_inc_int',
  useImportAPI: false,
  commentFieldKey: 'work_notes',
};

/** Import set fields carry this prefix; the Elastic application maps them onto the incident. */
export const FIELD_PREFIX = 'u_';

/** Kibana's default for correlation ids and ITOM message keys (rendered by alerting rules). */
export const DEFAULT_ALERTS_GROUPING_KEY = '{{rule.id}}:{{alert.id}}';

export const SERVICENOW_NAME = 'ServiceNow';

/** The Kibana version whose API this server speaks (status, kbn-version, event log). */
export const KIBANA_VERSION = '9.3.0';

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalidEmailsMessage, parseAddressList } from '../../src/connectors/email/addresses.js';
import { trimToMaximum } from '../../src/connectors/email/index.js';
import { renderMarkdown } from '../../src/connectors/email/markdown.js';
import {
  badRequest,
  createConnector,
  type ExecuteEnvelope,
  execute,
  expectCreateRefused,
  expectNoSecrets,
  expectRetryAt,
} from '../helpers/connectors.js';
import { connectorHarness } from '../helpers/harness.js';
import { startServer, type TestServer, tempDir, withServer } from '../helpers/server.js';
import {
  GRAPH_SCOPE,
  type MicrosoftSimulator,
  startMicrosoftSimulator,
} from '../simulators/microsoft.js';
import {
  type BrokenSmtpServer,
  type SmtpSimulator,
  startBrokenSmtpServer,
  startSmtpSimulator,
} from '../simulators/smtp.js';

const TEST_MESSAGE = 'This is a test email from Kibana';
const PUBLIC_URL = 'https://kibana.example.com:5601';
const SMTP_USER = 'mailer@example.com';
const SMTP_PASSWORD = 'smtp-pass-Qw7!';

/** The envelope of a run whose mail the SMTP server or Microsoft Graph did not take. */
function sendFailed(connectorId: string, serviceMessage: string, retry: boolean) {
  return {
    status: 'error',
    connector_id: connectorId,
    message: 'error sending email',
    service_message: serviceMessage,
    retry,
    errorSource: 'user',
  };
}

/** Creates an email connector on this server. */
function emailConnector(
  server: TestServer,
  config: Record<string, unknown>,
  secrets?: Record<string, unknown>,
): Promise<string> {
  return createConnector(server.api, { connector_type_id: '.email', config, secrets });
}

function smtpConfig(sim: { host: string; port: number }, extra: Record<string, unknown> = {}) {
  return { service: 'other', host: sim.host, port: sim.port, from: 'alerts@example.com', ...extra };
}

describe('.email in the connector types list', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('is listed with Kibana fields', async () => {
    const res = await server.api<Array<{ id: string }>>('GET', '/api/actions/connector_types');
    expect(res.status).toBe(200);
    expect(res.body.find((t) => t.id === '.email')).toEqual({
      id: '.email',
      name: 'Email',
      enabled: true,
      enabled_in_config: true,
      enabled_in_license: true,
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'uptime', 'siem', 'workflows'],
      is_system_action_type: false,
      is_deprecated: false,
    });
  });
});

describe('.email over SMTP', () => {
  let smtp: SmtpSimulator;
  let authSmtp: SmtpSimulator;
  let server: TestServer;
  const replies: unknown[] = [];

  async function run(id: string, params: Record<string, unknown>): Promise<ExecuteEnvelope> {
    const reply = await execute(server.api, id, params);
    replies.push(reply);
    return reply;
  }

  beforeAll(async () => {
    smtp = await startSmtpSimulator();
    authSmtp = await startSmtpSimulator({ auth: { user: SMTP_USER, pass: SMTP_PASSWORD } });
    server = await startServer({ settings: { 'server.publicBaseUrl': PUBLIC_URL } });
  });
  afterAll(async () => {
    expectNoSecrets(server, [SMTP_PASSWORD], replies);
    await server.close();
    await smtp.close();
    await authSmtp.close();
  });

  it('delivers the test message to every recipient, with the footer linking to Kibana', async () => {
    const id = await emailConnector(server, smtpConfig(smtp, { hasAuth: false }));
    const before = smtp.mails.length;
    const reply = await run(id, {
      to: ['ops@example.com', 'Dev Team <dev@example.com>'],
      cc: ['lead@example.com'],
      bcc: ['audit@example.com'],
      subject: 'Disk almost full',
      message: 'Host **db-1** is at 93%',
    });
    expect(reply).toEqual({
      status: 'ok',
      connector_id: id,
      data: {
        accepted: ['ops@example.com', 'dev@example.com', 'lead@example.com', 'audit@example.com'],
        rejected: [],
        ehlo: ['PIPELINING', '8BITMIME', 'SMTPUTF8'],
        envelopeTime: expect.any(Number),
        messageTime: expect.any(Number),
        messageSize: expect.any(Number),
        response: '250 OK: message queued',
        envelope: {
          from: 'alerts@example.com',
          to: ['ops@example.com', 'dev@example.com', 'lead@example.com', 'audit@example.com'],
        },
        messageId: expect.stringMatching(/^<[0-9a-f-]+@example\.com>$/),
      },
    });
    expect(smtp.mails.length).toBe(before + 1);
    const mail = smtp.last();
    expect(mail.envelope).toEqual({
      from: 'alerts@example.com',
      to: ['ops@example.com', 'dev@example.com', 'lead@example.com', 'audit@example.com'],
    });
    expect(mail.user).toBeUndefined();
    expect(mail.message.headers).toMatchObject({
      from: 'alerts@example.com',
      to: 'ops@example.com, Dev Team <dev@example.com>',
      cc: 'lead@example.com',
      subject: TEST_MESSAGE,
      'mime-version': '1.0',
    });
    expect(mail.message.headers.bcc).toBeUndefined();
    expect(mail.message.headers['reply-to']).toBeUndefined();
    expect(mail.message.contentType).toBe('multipart/alternative');
    expect(mail.text).toBe(
      `${TEST_MESSAGE}\n\n---\n\nThis message was sent by Elastic. [Go to Elastic](${PUBLIC_URL}).`,
    );
    expect(mail.html).toBe(TEST_MESSAGE);
  });

  it('sends the given subject and message when connectors.email.testMessageForApiRuns is false', async () => {
    await withServer(
      {
        settings: { 'connectors.email.testMessageForApiRuns': false },
      },
      async (gateway) => {
        const id = await emailConnector(gateway, smtpConfig(smtp, { hasAuth: false }));
        const reply = await execute(gateway.api, id, {
          to: ['ops@example.com'],
          subject: 'Disk almost full',
          message: 'Host db-1 is at 93%',
        });
        expect(reply.status).toBe('ok');
        const mail = smtp.last();
        expect(mail.message.headers.subject).toBe('Disk almost full');
        expect(mail.text).toBe('Host db-1 is at 93%\n\n---\n\nThis message was sent by Elastic.');
      },
    );
  });

  it('adds Reply-To and links the footer to the given Kibana path', async () => {
    const id = await emailConnector(server, smtpConfig(smtp, { hasAuth: false }));
    const reply = await run(id, {
      to: ['ops@example.com'],
      replyTo: ['noc@example.com', 'oncall@example.com'],
      subject: 's',
      message: 'm',
      kibanaFooterLink: {
        path: '/app/management/insightsAndAlerting/triggersActions/rules',
        text: 'View rule',
      },
    });
    expect(reply.status).toBe('ok');
    const mail = smtp.last();
    expect(mail.message.headers['reply-to']).toBe('noc@example.com, oncall@example.com');
    expect(mail.text).toBe(
      `${TEST_MESSAGE}\n\n---\n\nThis message was sent by Elastic. [View rule](${PUBLIC_URL}/app/management/insightsAndAlerting/triggersActions/rules).`,
    );
  });

  it('signs in with the connector user and password', async () => {
    const id = await emailConnector(
      server,
      smtpConfig(authSmtp, { from: 'Alerts <alerts@example.com>' }),
      { user: SMTP_USER, password: SMTP_PASSWORD },
    );
    const reply = await run(id, { to: ['ops@example.com'], subject: 's', message: 'm' });
    expect(reply.status).toBe('ok');
    expect(authSmtp.logins.at(-1)).toEqual({ username: SMTP_USER, password: SMTP_PASSWORD });
    const mail = authSmtp.last();
    expect(mail.user).toBe(SMTP_USER);
    expect(mail.envelope).toEqual({ from: 'alerts@example.com', to: ['ops@example.com'] });
    expect(mail.message.headers.from).toBe('Alerts <alerts@example.com>');
  });

  it('reports a refused login without retry', async () => {
    const id = await emailConnector(server, smtpConfig(authSmtp), {
      user: SMTP_USER,
      password: 'wrong-password',
    });
    const reply = await run(id, { to: ['ops@example.com'], subject: 's', message: 'm' });
    expect(reply).toEqual(sendFailed(id, 'Invalid login: 535 Invalid username or password', false));
  });

  it('sends no credentials when hasAuth is false, even if some are stored', async () => {
    const id = await emailConnector(server, smtpConfig(authSmtp, { hasAuth: false }), {
      user: SMTP_USER,
      password: SMTP_PASSWORD,
    });
    const logins = authSmtp.logins.length;
    const reply = await run(id, { to: ['ops@example.com'], subject: 's', message: 'm' });
    expect(authSmtp.logins.length).toBe(logins);
    expect(reply).toEqual(
      sendFailed(id, 'Mail command failed: 530 Error: authentication Required', false),
    );
  });

  it('reports recipients refused for good (550) without retry', async () => {
    const id = await emailConnector(server, smtpConfig(smtp, { hasAuth: false }));
    const reply = await run(id, { to: ['reject-550@example.com'], subject: 's', message: 'm' });
    expect(reply).toEqual(
      sendFailed(
        id,
        "Can't send mail - all recipients were rejected: 550 <reject-550@example.com>: Recipient address rejected: User unknown",
        false,
      ),
    );
  });

  it('asks for a retry when recipients are refused for now (451)', async () => {
    const id = await emailConnector(server, smtpConfig(smtp, { hasAuth: false }));
    const reply = await run(id, { to: ['reject-451@example.com'], subject: 's', message: 'm' });
    expect(reply).toEqual(
      sendFailed(
        id,
        "Can't send mail - all recipients were rejected: 451 <reject-451@example.com>: Recipient address rejected: Try again later",
        true,
      ),
    );
  });

  it('delivers to the accepted recipients and lists the refused ones', async () => {
    const id = await emailConnector(server, smtpConfig(smtp, { hasAuth: false }));
    const reply = await run(id, {
      to: ['ops@example.com', 'reject-550@example.com'],
      subject: 's',
      message: 'm',
    });
    expect(reply.status).toBe('ok');
    expect(reply.data).toMatchObject({
      accepted: ['ops@example.com'],
      rejected: ['reject-550@example.com'],
      rejectedErrors: [
        {
          code: 'EENVELOPE',
          response: '550 <reject-550@example.com>: Recipient address rejected: User unknown',
          responseCode: 550,
          command: 'RCPT TO',
          recipient: 'reject-550@example.com',
        },
      ],
    });
    expect(smtp.last().envelope.to).toEqual(['ops@example.com']);
  });

  it('refuses messageHTML and attachments, as Kibana does outside notifications', async () => {
    const id = await emailConnector(server, smtpConfig(smtp, { hasAuth: false }));
    const before = smtp.mails.length;
    const base = { to: ['ops@example.com'], subject: 's', message: 'm' };
    expect(await run(id, { ...base, messageHTML: '<b>hi</b>' })).toEqual({
      status: 'error',
      connector_id: id,
      message: 'HTML email can only be sent via notifications',
      errorSource: 'user',
    });
    expect(
      await run(id, {
        ...base,
        attachments: [{ content: 'aGk=', filename: 'a.txt', encoding: 'base64' }],
      }),
    ).toEqual({
      status: 'error',
      connector_id: id,
      message: 'Email attachments can only be sent via notifications',
      errorSource: 'user',
    });
    expect(smtp.mails.length).toBe(before);
  });

  it('judges template recipients when sending, not when validating', async () => {
    const id = await emailConnector(server, smtpConfig(smtp, { hasAuth: false }));
    expect(await run(id, { to: ['{{context.owner}}'], subject: 's', message: 'm' })).toEqual({
      status: 'error',
      connector_id: id,
      message: '[to/cc/bcc]: not valid emails: {{context.owner}}',
      errorSource: 'user',
    });
  });

  it('validates params with Kibana texts', async () => {
    const id = await emailConnector(server, smtpConfig(smtp, { hasAuth: false }));
    const refused = (message: string) => ({
      status: 'error',
      connector_id: id,
      message: `error validating action params: ${message}`,
      retry: false,
      errorSource: 'user',
    });
    expect(await run(id, { subject: 's', message: 'm' })).toEqual(
      refused('At least one entry in [to], [cc], or [bcc] is required'),
    );
    expect(await run(id, { to: [' ', ''], cc: [''], subject: 's', message: 'm' })).toEqual(
      refused('At least one entry in [to], [cc], or [bcc] is required'),
    );
    expect(
      await run(id, { to: ['ops@example.com', 'not an address'], subject: 's', message: 'm' }),
    ).toEqual(refused('[to/cc/bcc]: not valid emails: not an address'));
    expect(
      await run(id, { to: ['ops@example.com'], replyTo: ['nope'], subject: 's', message: 'm' }),
    ).toEqual(refused('[to/cc/bcc/replyTo]: not valid emails: nope'));
    expect(await run(id, { to: ['ops@example.com'], message: 'm' })).toEqual(
      refused('[subject]: expected value of type [string] but got [undefined]'),
    );
    expect(await run(id, { to: ['ops@example.com'], subject: 's' })).toEqual(
      refused('[message]: expected value of type [string] but got [undefined]'),
    );
    expect(await run(id, { to: 'ops@example.com', subject: 's', message: 'm' })).toEqual(
      refused('[to]: expected value of type [array] but got [string]'),
    );
    const many = Array.from({ length: 101 }, (_, i) => `u${i}@example.com`);
    expect(await run(id, { to: many, subject: 's', message: 'm' })).toEqual(
      refused('[to]: array size is [101], but cannot be greater than [100]'),
    );
    expect(
      await run(id, { to: ['ops@example.com'], subject: 's', message: 'm', priority: 'high' }),
    ).toEqual(refused('[priority]: definition for this key is missing'));
    expect(
      await run(id, {
        to: ['ops@example.com'],
        subject: 's',
        message: 'm',
        kibanaFooterLink: { path: '/x', label: 'y' },
      }),
    ).toEqual(refused('[kibanaFooterLink.label]: definition for this key is missing'));
  });
});

describe('.email when the SMTP peer fails', () => {
  let server: TestServer;
  let silent: BrokenSmtpServer;
  let stalling: BrokenSmtpServer;
  let dropping: BrokenSmtpServer;
  // A port below the ephemeral range: no server bound to port 0 can take it over mid-run.
  const closedPort = 1;

  beforeAll(async () => {
    silent = await startBrokenSmtpServer('silent');
    stalling = await startBrokenSmtpServer('stall');
    dropping = await startBrokenSmtpServer('drop');
    server = await startServer({ settings: { 'xpack.actions.responseTimeout': '300ms' } });
  });
  afterAll(async () => {
    await server.close();
    await silent.close();
    await stalling.close();
    await dropping.close();
  });

  async function runAgainst(port: number): Promise<{ id: string; reply: ExecuteEnvelope }> {
    const id = await emailConnector(
      server,
      smtpConfig({ host: '127.0.0.1', port }, { hasAuth: false }),
    );
    const reply = await execute(server.api, id, {
      to: ['ops@example.com'],
      subject: 's',
      message: 'm',
    });
    return { id, reply };
  }

  it('gives up on a server that never greets after responseTimeout, and asks for a retry', async () => {
    const started = Date.now();
    const { id, reply } = await runAgainst(silent.port);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(silent.connections).toBeGreaterThan(0);
    expect(reply).toEqual(sendFailed(id, 'Greeting never received', true));
  });

  it('gives up on a reply that does not come within responseTimeout, and asks for a retry', async () => {
    const { id, reply } = await runAgainst(stalling.port);
    expect(stalling.connections).toBeGreaterThan(0);
    expect(reply).toEqual(sendFailed(id, 'Timeout', true));
  });

  it('reports a connection dropped mid-session, and asks for a retry', async () => {
    const { id, reply } = await runAgainst(dropping.port);
    expect(dropping.connections).toBeGreaterThan(0);
    expect(reply).toEqual(sendFailed(id, 'Connection closed unexpectedly', true));
  });

  it('reports a refused connection, and asks for a retry', async () => {
    const { id, reply } = await runAgainst(closedPort);
    expect(reply).toEqual(sendFailed(id, `connect ECONNREFUSED 127.0.0.1:${closedPort}`, true));
  });
});

describe('.email over TLS', () => {
  let implicitTls: SmtpSimulator;
  let startTls: SmtpSimulator;
  let strict: TestServer;
  let lenient: TestServer;

  beforeAll(async () => {
    implicitTls = await startSmtpSimulator({ secure: true });
    startTls = await startSmtpSimulator({
      startTls: true,
      auth: { user: SMTP_USER, pass: SMTP_PASSWORD },
    });
    strict = await startServer();
    lenient = await startServer({ settings: { 'xpack.actions.ssl.verificationMode': 'none' } });
  });
  afterAll(async () => {
    await strict.close();
    await lenient.close();
    await implicitTls.close();
    await startTls.close();
  });

  const params = { to: ['ops@example.com'], subject: 's', message: 'm' };

  it('speaks implicit TLS when secure is true, verifying the certificate per ssl.verificationMode', async () => {
    const config = smtpConfig(implicitTls, { secure: true, hasAuth: false });
    const unverified = await createConnector(lenient.api, { connector_type_id: '.email', config });
    expect((await execute(lenient.api, unverified, params)).status).toBe('ok');
    expect(implicitTls.last().secure).toBe(true);

    // smtp-server's built-in certificate is self-signed and long expired.
    const verified = await createConnector(strict.api, { connector_type_id: '.email', config });
    const reply = await execute(strict.api, verified, params);
    expect(reply).toMatchObject({
      status: 'error',
      message: 'error sending email',
      retry: false,
      errorSource: 'user',
    });
    expect(reply.service_message).toMatch(/certificate/);
  });

  it('upgrades with STARTTLS and, with credentials, refuses an untrusted certificate', async () => {
    const config = smtpConfig(startTls, { secure: false });
    const secrets = { user: SMTP_USER, password: SMTP_PASSWORD };
    const unverified = await createConnector(lenient.api, {
      connector_type_id: '.email',
      config,
      secrets,
    });
    expect((await execute(lenient.api, unverified, params)).status).toBe('ok');
    expect(startTls.last()).toMatchObject({ secure: true, user: SMTP_USER });

    const verified = await createConnector(strict.api, {
      connector_type_id: '.email',
      config,
      secrets,
    });
    const count = startTls.mails.length;
    const reply = await execute(strict.api, verified, params);
    expect(reply.status).toBe('error');
    expect(reply.service_message).toMatch(/certificate/);
    expect(startTls.mails.length).toBe(count);
  });
});

describe('.email settings: footer, allowlist, allowed hosts, Elastic Cloud', () => {
  let smtp: SmtpSimulator;
  beforeAll(async () => {
    smtp = await startSmtpSimulator();
  });
  afterAll(() => smtp.close());

  const params = { to: ['ops@example.com'], subject: 's', message: 'm' };

  it('writes the footer without a link when server.publicBaseUrl is unset', async () => {
    await withServer({}, async (server) => {
      const id = await emailConnector(server, smtpConfig(smtp, { hasAuth: false }));
      expect((await execute(server.api, id, params)).status).toBe('ok');
      expect(smtp.last().text).toBe(`${TEST_MESSAGE}\n\n---\n\nThis message was sent by Elastic.`);
    });
  });

  it('leaves the footer out when xpack.actions.enableFooterInEmail is false', async () => {
    await withServer(
      {
        settings: {
          'xpack.actions.enableFooterInEmail': false,
          'server.publicBaseUrl': PUBLIC_URL,
        },
      },
      async (server) => {
        const id = await emailConnector(server, smtpConfig(smtp, { hasAuth: false }));
        expect((await execute(server.api, id, params)).status).toBe('ok');
        expect(smtp.last().text).toBe(TEST_MESSAGE);
      },
    );
  });

  it('keeps senders and recipients within xpack.actions.email.domain_allowlist', async () => {
    await withServer(
      {
        settings: { 'xpack.actions.email.domain_allowlist': ['example.com', 'example.net'] },
      },
      async (server) => {
        await expectCreateRefused(
          server.api,
          {
            name: 'x',
            connector_type_id: '.email',
            config: smtpConfig(smtp, { hasAuth: false, from: 'alerts@elsewhere.org' }),
          },
          'error validating connector type config: [from]: not allowed emails: alerts@elsewhere.org',
        );
        const id = await emailConnector(server, smtpConfig(smtp, { hasAuth: false }));
        expect(
          await execute(server.api, id, {
            to: ['ops@example.com', 'a@other.org', 'bad address'],
            cc: ['Ops <ops@example.net>', 'b@elsewhere.org'],
            subject: 's',
            message: 'm',
          }),
        ).toEqual({
          status: 'error',
          connector_id: id,
          message:
            'error validating action params: [to/cc/bcc]: not valid emails: bad address; not allowed emails: a@other.org, b@elsewhere.org',
          retry: false,
          errorSource: 'user',
        });
        const count = smtp.mails.length;
        expect(
          (
            await execute(server.api, id, {
              to: ['ops@example.com'],
              cc: ['Ops <ops@example.net>'],
              subject: 's',
              message: 'm',
            })
          ).status,
        ).toBe('ok');
        expect(smtp.mails.length).toBe(count + 1);
      },
    );
  });

  it('refuses an SMTP host outside xpack.actions.allowedHosts, on create and on every run', async () => {
    const dataDir = tempDir();
    try {
      const open = await startServer({
        dataDir,
        settings: { 'xpack.actions.allowedHosts': ['127.0.0.1'] },
      });
      let id: string;
      try {
        id = await emailConnector(open, smtpConfig(smtp, { hasAuth: false }));
        await expectCreateRefused(
          open.api,
          {
            name: 'x',
            connector_type_id: '.email',
            config: smtpConfig({ host: 'smtp.example.org', port: 25 }, { hasAuth: false }),
          },
          "error validating connector type config: [host] value 'smtp.example.org' is not in the allowedHosts configuration",
        );
      } finally {
        await open.close();
      }
      // The same data folder, restarted with a list that no longer names the host.
      await withServer(
        {
          dataDir,
          settings: { 'xpack.actions.allowedHosts': ['smtp.example.com'] },
        },
        async (closed) => {
          const count = smtp.mails.length;
          expect(await execute(closed.api, id, params)).toEqual({
            status: 'error',
            connector_id: id,
            message:
              "error validating connector type config: [host] value '127.0.0.1' is not in the allowedHosts configuration",
            retry: false,
            errorSource: 'framework',
          });
          expect(smtp.mails.length).toBe(count);
        },
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('sends through the Elastic Cloud relay without TLS or credentials', async () => {
    await withServer(
      {
        settings: {
          'connectors.baseUrls': { '.email:elastic_cloud': `http://127.0.0.1:${smtp.port}` },
        },
      },
      async (server) => {
        const id = await emailConnector(server, {
          service: 'elastic_cloud',
          from: 'alerts@example.com',
          hasAuth: false,
        });
        const count = smtp.mails.length;
        expect((await execute(server.api, id, params)).status).toBe('ok');
        expect(smtp.mails.length).toBe(count + 1);
        expect(smtp.last()).toMatchObject({ secure: false, user: undefined });
      },
    );
  });

  it('trims a body longer than the maximum and says so on top', () => {
    expect(trimToMaximum('conn-1', 'abcdefghij', 4)).toBe(
      `Your message's length of 10 exceeded the 4 bytes limit that is set for the connector "conn-1" and was trimmed. You can modify the limit by increasing the value specified for the xpack.actions.email.maximum_body_length setting.\n\nabcd`,
    );
    expect(trimToMaximum('conn-1', 'abc', 4)).toBe('abc');
  });
});

describe('.email through the JSON transport (service __json)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ settings: { 'server.publicBaseUrl': PUBLIC_URL } });
  });
  afterAll(() => server.close());

  it('returns the composed message with the real subject, text and rendered HTML', async () => {
    const id = await emailConnector(server, {
      service: '__json',
      from: 'alerts@example.com',
      hasAuth: false,
    });
    const reply = await execute(server.api, id, {
      to: ['ops@example.com'],
      cc: ['Lead <lead@example.com>'],
      subject: 'Disk almost full',
      message: 'Host **db-1** is at 93% <see https://status.example.com>',
    });
    const text = `Host **db-1** is at 93% <see https://status.example.com>\n\n---\n\nThis message was sent by Elastic. [Go to Elastic](${PUBLIC_URL}).`;
    expect(reply).toEqual({
      status: 'ok',
      connector_id: id,
      data: {
        envelope: { from: 'alerts@example.com', to: ['ops@example.com', 'lead@example.com'] },
        messageId: expect.stringMatching(/^<[0-9a-f-]+@example\.com>$/),
        message: {
          from: { address: 'alerts@example.com', name: '' },
          to: [{ address: 'ops@example.com', name: '' }],
          cc: [{ address: 'lead@example.com', name: 'Lead' }],
          bcc: null,
          subject: 'Disk almost full',
          text,
          html: `<p>Host <strong>db-1</strong> is at 93% &lt;see <a href="https://status.example.com">https://status.example.com</a>&gt;</p>\n<hr>\n<p>This message was sent by Elastic. <a href="${PUBLIC_URL}">Go to Elastic</a>.</p>\n`,
          headers: {},
          messageId: expect.stringMatching(/^<[0-9a-f-]+@example\.com>$/),
        },
      },
    });
  });
});

describe('.email config and secrets validation', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      settings: { 'xpack.actions.allowedHosts': ['127.0.0.1', 'smtp.example.com'] },
    });
  });
  afterAll(() => server.close());

  async function create(config: unknown, secrets?: unknown) {
    return server.api<Record<string, unknown>>('POST', '/api/actions/connector', {
      body: {
        name: 'mail',
        connector_type_id: '.email',
        config,
        ...(secrets !== undefined ? { secrets } : {}),
      },
    });
  }

  async function expectRefused(config: unknown, message: string, secrets?: unknown) {
    const res = await create(config, secrets);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(badRequest(message));
  }

  const cfg = 'error validating connector type config: ';

  it('answers the stored connector with defaults filled in and no secrets', async () => {
    const res = await create(
      { host: 'smtp.example.com', port: 587, from: 'alerts@example.com' },
      { user: SMTP_USER, password: SMTP_PASSWORD },
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: 'mail',
      connector_type_id: '.email',
      config: {
        service: 'other',
        host: 'smtp.example.com',
        port: 587,
        secure: null,
        from: 'alerts@example.com',
        hasAuth: true,
        tenantId: null,
        clientId: null,
        oauthTokenUrl: null,
      },
      is_preconfigured: false,
      is_system_action: false,
      is_deprecated: false,
      is_missing_secrets: false,
      is_connector_type_deprecated: false,
    });
    expectNoSecrets(server, [SMTP_PASSWORD], [res.body]);
  });

  it('refuses a config the schema does not allow', async () => {
    await expectRefused({}, `${cfg}[from]: expected value of type [string] but got [undefined]`);
    await expectRefused(
      { from: 'a@example.com', host: 'smtp.example.com', port: 25, username: 'x' },
      `${cfg}[username]: definition for this key is missing`,
    );
    await expectRefused(
      { from: 'a@example.com', host: 'smtp.example.com', port: 0 },
      `${cfg}[port]: types that failed validation:\n- [port.0]: Value must be equal to or greater than [1].\n- [port.1]: expected value to equal [null]`,
    );
    await expectRefused(
      { from: 'a@example.com', host: 'smtp.example.com', port: 25, secure: 'yes' },
      `${cfg}[secure]: types that failed validation:\n- [secure.0]: expected value of type [boolean] but got [string]\n- [secure.1]: expected value to equal [null]`,
    );
  });

  it('needs host and port for service other, on an allowed host', async () => {
    await expectRefused({ from: 'a@example.com' }, `${cfg}[host]/[port] is required`);
    await expectRefused({ from: 'a@example.com', port: 25 }, `${cfg}[host] is required`);
    await expectRefused(
      { from: 'a@example.com', host: 'smtp.example.com' },
      `${cfg}[port] is required`,
    );
    await expectRefused(
      { from: 'a@example.com', host: 'smtp.example.org', port: 25 },
      `${cfg}[host] value 'smtp.example.org' is not in the allowedHosts configuration`,
    );
    await expectRefused(
      { from: 'not an address', host: 'smtp.example.com', port: 25 },
      `${cfg}[from]: not valid emails: not an address`,
    );
  });

  it('resolves well-known services through nodemailer and checks their host', async () => {
    await expectRefused(
      { service: 'gmail', from: 'a@example.com' },
      `${cfg}[service] value 'gmail' resolves to host 'smtp.gmail.com' which is not in the allowedHosts configuration`,
    );
    await expectRefused(
      { service: 'outlook365', from: 'a@example.com' },
      `${cfg}[service] value 'outlook365' resolves to host 'smtp.office365.com' which is not in the allowedHosts configuration`,
    );
    await expectRefused(
      { service: 'elastic_cloud', from: 'a@example.com' },
      `${cfg}[service] value 'elastic_cloud' resolves to host 'dockerhost' which is not in the allowedHosts configuration`,
    );
    await expectRefused(
      { service: 'carrier-pigeon', from: 'a@example.com' },
      `${cfg}[service] value 'carrier-pigeon' is not valid`,
    );
  });

  it('needs the Exchange identifiers and an allowed token URL', async () => {
    const base = { service: 'exchange_server', from: 'a@example.com' };
    await expectRefused(base, `${cfg}[clientId]/[tenantId] is required`);
    await expectRefused({ ...base, tenantId: 't' }, `${cfg}[clientId] is required`);
    await expectRefused({ ...base, clientId: 'c' }, `${cfg}[tenantId] is required`);
    await expectRefused(
      { ...base, clientId: 'c', tenantId: 't', oauthTokenUrl: 'https://login.example.org/t/token' },
      `${cfg}[oauthTokenUrl]: host name value for 'https://login.example.org/t/token' is not in the allowedHosts configuration`,
    );
  });

  it('needs the credentials the config asks for', async () => {
    const smtpBase = { host: 'smtp.example.com', port: 25, from: 'a@example.com' };
    await expectRefused(smtpBase, 'error validating action type connector: [user] is required');
    await expectRefused(
      smtpBase,
      'error validating action type connector: [password] is required',
      { user: SMTP_USER },
    );
    await expectRefused(
      { service: 'exchange_server', from: 'a@example.com', clientId: 'c', tenantId: 't' },
      'error validating action type connector: [clientSecret] is required',
    );
    await expectRefused(
      smtpBase,
      'error validating connector type secrets: [token]: definition for this key is missing',
      { user: SMTP_USER, password: SMTP_PASSWORD, token: 'x' },
    );
    const res = await create({ ...smtpBase, hasAuth: false });
    expect(res.status).toBe(200);
  });
});

describe('.email through Microsoft Exchange (Graph)', () => {
  const h = connectorHarness({
    type: '.email',
    simulator: () => startMicrosoftSimulator(),
    settings: (ms) => ({
      'server.publicBaseUrl': PUBLIC_URL,
      'xpack.actions.maxResponseContentLength': '1kb',
      'connectors.baseUrls': { '.email:login': ms.url, '.email:graph': `${ms.url}/v1.0` },
    }),
  });

  const params = (to = 'ops@example.com') => ({
    to: [to],
    cc: ['lead@example.com'],
    bcc: ['audit@example.com'],
    subject: 'Disk almost full',
    message: 'Host db-1 is at 93%',
  });

  async function exchangeConnector(extra: Record<string, unknown> = {}, secret?: string) {
    return h.create({
      config: {
        service: 'exchange_server',
        from: 'alerts@example.com',
        tenantId: h.sim.app.tenantId,
        clientId: h.sim.app.clientId,
        ...extra,
      },
      secrets: { clientSecret: secret ?? h.sim.app.clientSecret },
    });
  }

  const run = (id: string, p: Record<string, unknown>): Promise<ExecuteEnvelope> => h.run(p, id);

  afterAll(() => {
    expectNoSecrets(h.server, [h.sim.app.clientSecret, ...h.sim.issued], h.replies);
  });

  it('gets a token with the client credentials, then posts the message to sendMail', async () => {
    const id = await exchangeConnector();
    const tokens = h.sim.tokenRequests().length;
    const reply = await run(id, params());
    expect(reply).toEqual({ status: 'ok', connector_id: id, data: '' });

    expect(h.sim.tokenRequests().length).toBe(tokens + 1);
    const tokenRequest = h.sim.tokenRequests().at(-1);
    expect(tokenRequest?.method).toBe('POST');
    expect(tokenRequest?.path).toBe(`/${h.sim.app.tenantId}/oauth2/v2.0/token`);
    expect(tokenRequest?.headers['content-type']).toBe(
      'application/x-www-form-urlencoded; charset=UTF-8',
    );
    expect(tokenRequest?.text).toBe(
      `client_id=${h.sim.app.clientId}&client_secret=${h.sim.app.clientSecret}&grant_type=client_credentials&scope=${encodeURIComponent(GRAPH_SCOPE)}`,
    );

    const send = h.sim.last();
    expect(send.method).toBe('POST');
    expect(send.path).toBe('/v1.0/users/alerts@example.com/sendMail');
    expect(send.query.toString()).toBe('');
    expect(send.headers.authorization).toBe(`Bearer ${h.sim.issued.at(-1)}`);
    expect(send.headers['content-type']).toBe('application/json');
    expect(send.json).toEqual({
      message: {
        subject: TEST_MESSAGE,
        body: { contentType: 'HTML', content: TEST_MESSAGE },
        toRecipients: [{ emailAddress: { address: 'ops@example.com' } }],
        ccRecipients: [{ emailAddress: { address: 'lead@example.com' } }],
        bccRecipients: [{ emailAddress: { address: 'audit@example.com' } }],
        attachments: [],
      },
    });
  });

  it('reuses the cached token until Graph refuses it, then fetches a new one', async () => {
    const id = await exchangeConnector();
    expect((await run(id, params())).status).toBe('ok');
    const tokens = h.sim.tokenRequests().length;
    const first = h.sim.last().headers.authorization;
    expect((await run(id, params())).status).toBe('ok');
    expect(h.sim.tokenRequests().length).toBe(tokens);
    expect(h.sim.last().headers.authorization).toBe(first);

    h.sim.revokeTokens();
    expect(await run(id, params())).toEqual(
      sendFailed(
        id,
        JSON.stringify({
          error: {
            code: 'InvalidAuthenticationToken',
            message: 'Access token is empty or invalid.',
            innerError: {
              date: '2026-01-01T00:00:00',
              'request-id': '6d0e0e0e-1111-2222-3333-444444444444',
              'client-request-id': '6d0e0e0e-1111-2222-3333-444444444444',
            },
          },
        }),
        false,
      ),
    );
    expect(h.sim.tokenRequests().length).toBe(tokens);

    expect((await run(id, params())).status).toBe('ok');
    expect(h.sim.tokenRequests().length).toBe(tokens + 1);
    expect(h.sim.last().headers.authorization).toBe(`Bearer ${h.sim.issued.at(-1)}`);
    expect(h.sim.last().headers.authorization).not.toBe(first);
  });

  it('asks the token URL of the connector when it has one', async () => {
    const id = await exchangeConnector({
      oauthTokenUrl: `${h.sim.url}/custom-tenant/oauth2/v2.0/token`,
    });
    const reply = await run(id, params());
    // The simulator knows one tenant only: the custom URL was the one asked.
    expect(h.sim.tokenRequests().at(-1)?.path).toBe('/custom-tenant/oauth2/v2.0/token');
    expect(reply).toMatchObject({ status: 'error', message: 'error sending email', retry: false });
    expect(JSON.parse(reply.service_message ?? '')).toMatchObject({
      error: 'invalid_request',
      error_codes: [90002],
    });
  });

  it('reports a refused client secret with the token endpoint answer, keys sorted', async () => {
    const id = await exchangeConnector({}, 'not-the-secret');
    const reply = await run(id, params());
    const description =
      'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\r\nCorrelation ID: 11111111-2222-3333-4444-555555555555\r\nTimestamp: 2026-01-01 00:00:00Z';
    expect(reply).toEqual(
      sendFailed(
        id,
        `{"correlation_id":"11111111-2222-3333-4444-555555555555","error":"invalid_client","error_codes":[7000215],"error_description":${JSON.stringify(description)},"error_uri":"https://login.microsoftonline.com/error?code=7000215","timestamp":"2026-01-01 00:00:00Z","trace_id":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}`,
        false,
      ),
    );
    expectNoSecrets(h.server, ['not-the-secret'], [reply]);
  });

  it('asks for a retry when the token endpoint fails on its side', async () => {
    const id = await exchangeConnector({ tenantId: 'respond-with-503' });
    const sends = h.sim.graphRequests().length;
    const reply = await run(id, params());
    expect(reply).toMatchObject({ status: 'error', message: 'error sending email', retry: true });
    expect(JSON.parse(reply.service_message ?? '')).toMatchObject({
      error: 'temporarily_unavailable',
    });
    expect(h.sim.graphRequests().length).toBe(sends);
  });

  const graphBody = (code: string, message: string) =>
    JSON.stringify({
      error: {
        code,
        message,
        innerError: {
          date: '2026-01-01T00:00:00',
          'request-id': '6d0e0e0e-1111-2222-3333-444444444444',
          'client-request-id': '6d0e0e0e-1111-2222-3333-444444444444',
        },
      },
    });

  it.each([
    [400, graphBody('ErrorInvalidRecipients', 'At least one recipient is not valid.'), false],
    [
      403,
      graphBody('ErrorAccessDenied', 'Access is denied. Check credentials and try again.'),
      false,
    ],
    [404, graphBody('ErrorInvalidUser', "The requested user 'nobody' is invalid."), false],
    [500, graphBody('generalException', 'General exception while processing.'), true],
    [502, '"Bad Gateway"', true],
    [503, graphBody('ServiceNotAvailable', 'Service is temporarily unavailable.'), true],
  ])('reports Graph %i with its answer (retry %s)', async (status, serviceMessage, retry) => {
    const id = await exchangeConnector();
    const reply = await run(id, params(`respond-with-${status}@example.com`));
    expect(h.sim.last().path).toBe('/v1.0/users/alerts@example.com/sendMail');
    expect(reply).toEqual(sendFailed(id, serviceMessage, retry));
  });

  it('retries a throttled send at the moment Graph names', async () => {
    const id = await exchangeConnector();
    const reply = await run(id, params('respond-with-429@example.com'));
    expect(reply).toMatchObject({
      status: 'error',
      message: 'error sending email',
      service_message: graphBody(
        'ApplicationThrottled',
        'Application is over its MailboxConcurrency limit.',
      ),
    });
    expectRetryAt(reply.retry, 30);
  });

  it('retries a throttled send without Retry-After', async () => {
    const id = await exchangeConnector();
    expect(await run(id, params('respond-with-429-no-retry-after@example.com'))).toEqual(
      sendFailed(
        id,
        graphBody('ApplicationThrottled', 'Application is over its MailboxConcurrency limit.'),
        true,
      ),
    );
  });

  it('reports a dropped connection and an oversized answer', async () => {
    const id = await exchangeConnector();
    expect(await run(id, params('respond-with-reset@example.com'))).toEqual(
      sendFailed(id, 'socket hang up', true),
    );
    expect(await run(id, params('respond-with-large@example.com'))).toEqual(
      sendFailed(id, 'maxContentLength size of 1024 exceeded', false),
    );
  });
});

describe('.email through Exchange with a short timeout or the default hosts', () => {
  let ms: MicrosoftSimulator;
  beforeAll(async () => {
    ms = await startMicrosoftSimulator();
  });
  afterAll(() => ms.close());

  const config = () => ({
    service: 'exchange_server',
    from: 'alerts@example.com',
    tenantId: ms.app.tenantId,
    clientId: ms.app.clientId,
  });

  it('gives up on Graph after responseTimeout and asks for a retry', async () => {
    await withServer(
      {
        settings: {
          'xpack.actions.responseTimeout': '300ms',
          'connectors.baseUrls': { '.email:login': ms.url, '.email:graph': `${ms.url}/v1.0` },
        },
      },
      async (server) => {
        const id = await emailConnector(server, config(), { clientSecret: ms.app.clientSecret });
        const reply = await execute(server.api, id, {
          to: ['respond-with-timeout@example.com'],
          subject: 's',
          message: 'm',
        });
        expect(reply).toEqual(sendFailed(id, 'timeout of 300ms exceeded', true));
      },
    );
  });

  it('calls Microsoft at the hosts of xpack.actions.microsoftExchangeUrl and microsoftGraphApiUrl', async () => {
    await withServer(
      {
        settings: {
          'xpack.actions.microsoftExchangeUrl': ms.url,
          'xpack.actions.microsoftGraphApiUrl': `${ms.url}/v1.0`,
        },
      },
      async (server) => {
        const id = await emailConnector(server, config(), { clientSecret: ms.app.clientSecret });
        const reply = await execute(server.api, id, {
          to: ['ops@example.com'],
          subject: 's',
          message: 'm',
        });
        expect(reply).toEqual({ status: 'ok', connector_id: id, data: '' });
        expect(ms.tokenRequests().at(-1)?.path).toBe(`/${ms.app.tenantId}/oauth2/v2.0/token`);
        expect(ms.last().path).toBe('/v1.0/users/alerts@example.com/sendMail');
      },
    );
  });

  it('refuses Microsoft hosts outside xpack.actions.allowedHosts', async () => {
    await withServer(
      { settings: { 'xpack.actions.allowedHosts': ['127.0.0.1'] } },
      async (server) => {
        const id = await emailConnector(server, config(), { clientSecret: ms.app.clientSecret });
        const requests = ms.requests.length;
        const reply = await execute(server.api, id, {
          to: ['ops@example.com'],
          subject: 's',
          message: 'm',
        });
        expect(reply).toEqual(
          sendFailed(
            id,
            `target url "https://login.microsoftonline.com/${ms.app.tenantId}/oauth2/v2.0/token" is not added to the Kibana config xpack.actions.allowedHosts`,
            false,
          ),
        );
        expect(ms.requests.length).toBe(requests);
      },
    );
  });
});

describe('.email address lists and markdown, as Kibana reads and renders them', () => {
  it('reads RFC 5322 address lists and their domains', () => {
    expect(parseAddressList('ops@example.com')).toEqual(['example.com']);
    expect(parseAddressList('"Ops, Team" <ops@example.com>, dev@example.net')).toEqual([
      'example.com',
      'example.net',
    ]);
    expect(parseAddressList('oncall: a@example.com, b@example.org;')).toEqual([
      'example.com',
      'example.org',
    ]);
    expect(parseAddressList('undisclosed-recipients:;')).toEqual([]);
    expect(parseAddressList('ops (night shift) @example.com')).toEqual(['example.com']);
    expect(parseAddressList('ops@[192.0.2.1]')).toEqual(['[192.0.2.1]']);
    for (const bad of [
      '',
      'ops',
      'ops@',
      '@example.com',
      'a..b@example.com',
      'a@b@c',
      'Ops <ops@example.com',
      'jörg@example.com',
    ]) {
      expect(parseAddressList(bad), bad).toBeNull();
    }
  });

  it('words refusals as Kibana does', () => {
    expect(invalidEmailsMessage(null, ['a@example.com', 'nope'])).toBe('not valid emails: nope');
    expect(invalidEmailsMessage(['example.com'], ['a@example.com', 'Team <b@EXAMPLE.com>'])).toBe(
      'not allowed emails: Team <b@EXAMPLE.com>',
    );
    expect(
      invalidEmailsMessage(['example.com'], ['{{x}}', 'x@y.org'], {
        treatMustacheTemplatesAsValid: true,
      }),
    ).toBe('not allowed emails: x@y.org');
    expect(invalidEmailsMessage(undefined, ['a@example.com'])).toBeUndefined();
  });

  it('renders markdown to the HTML markdown-it writes', () => {
    expect(renderMarkdown('# Alert\n\n- one\n- *two*\n\n1. a\n2. b')).toBe(
      '<h1>Alert</h1>\n<ul>\n<li>one</li>\n<li><em>two</em></li>\n</ul>\n<ol>\n<li>a</li>\n<li>b</li>\n</ol>\n',
    );
    expect(renderMarkdown('see www.elastic.co or mail ops@example.com\nnext  \nline')).toBe(
      '<p>see <a href="http://www.elastic.co">www.elastic.co</a> or mail <a href="mailto:ops@example.com">ops@example.com</a>\nnext<br>\nline</p>\n',
    );
    expect(renderMarkdown('> quoted `a<b`\n\n```sh\necho "hi" & exit\n```')).toBe(
      '<blockquote>\n<p>quoted <code>a&lt;b</code></p>\n</blockquote>\n<pre><code class="language-sh">echo &quot;hi&quot; &amp; exit\n</code></pre>\n',
    );
    expect(renderMarkdown('[click](javascript:alert(1)) <b>raw</b> snake_case_name')).toBe(
      '<p>[click](javascript:alert(1)) &lt;b&gt;raw&lt;/b&gt; snake_case_name</p>\n',
    );
  });
});

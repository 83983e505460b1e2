import { describe, expect, it } from 'vitest';
import { dingtalkBody } from '#lib/alerts/channels/dingtalk.ts';
import { feishuBody } from '#lib/alerts/channels/feishu.ts';
import { escapeSlack, renderSlack } from '#lib/alerts/channels/slack.ts';
import { snsMessage, snsPublishInput, snsSubject } from '#lib/alerts/channels/sns.ts';
import { teamsBody } from '#lib/alerts/channels/teams.ts';
import { webhookPayload } from '#lib/alerts/channels/webhook.ts';
import { WECOM_CONTENT_MAX, wecomBody } from '#lib/alerts/channels/wecom.ts';
import { TRUNCATION_MARKER } from '#lib/alerts/index.ts';
import { baseAlert, hugeSummary } from './fixtures.ts';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const huge = { ...baseAlert, summary: hugeSummary };

describe('Slack', () => {
  it('renders a header, context, summary, facts and a link button as mrkdwn blocks plus fallback text', () => {
    const message = renderSlack(baseAlert);
    expect(message.text).toContain('[CRITICAL] Scheduler heartbeat is stale');
    expect(message.text).toContain('Environment: prod-mwaa');
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '🔴 Scheduler heartbeat is stale' },
    });
    const texts = message.blocks.slice(1).map((b) => (b.text as { text: string }).text);
    expect(texts).toEqual([
      '*Environment:* prod-mwaa  |  *DAG:* etl_daily  |  *Run:* scheduled__2025-01-01T00:00:00+00:00',
      'The scheduler last reported 312 s ago.',
      '*Heartbeat age:* 312 s\n*Threshold:* 120 s',
      '<https://airflow.example.com/dags/etl_daily/grid|Open in Airflow>',
    ]);
  });

  it('escapes mrkdwn control characters in alert text', () => {
    expect(escapeSlack('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
    const message = renderSlack({ ...baseAlert, summary: '<!channel> ping' });
    expect(JSON.stringify(message.blocks)).not.toContain('<!channel>');
  });

  it('keeps text within 40,000 chars and each section within 3,000, with a visible marker', () => {
    const message = renderSlack({ ...huge, title: 'T'.repeat(500) });
    expect(message.text.length).toBeLessThanOrEqual(40_000);
    expect(message.text.endsWith(TRUNCATION_MARKER)).toBe(true);
    const header = message.blocks[0]?.text as { text: string };
    expect(header.text.length).toBeLessThanOrEqual(150);
    for (const block of message.blocks.slice(1)) {
      expect((block.text as { text: string }).text.length).toBeLessThanOrEqual(3_000);
    }
    expect(JSON.stringify(message.blocks)).toContain(TRUNCATION_MARKER);
  });
});

describe('DingTalk', () => {
  it('sends markdown with a title and bold facts', () => {
    const body = JSON.parse(dingtalkBody(baseAlert));
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toBe('[CRITICAL] Scheduler heartbeat is stale');
    expect(body.markdown.text).toContain('### [CRITICAL] Scheduler heartbeat is stale');
    expect(body.markdown.text).toContain('- **DAG**: etl_daily');
    expect(body.markdown.text).toContain('- **Heartbeat age**: 312 s');
    expect(body.markdown.text).toContain(
      '[Open in Airflow](https://airflow.example.com/dags/etl_daily/grid)',
    );
  });

  it('keeps the body within 20,000 bytes by cutting the summary, keeping facts and link', () => {
    const body = dingtalkBody(huge);
    expect(bytes(body)).toBeLessThanOrEqual(20_000);
    const text = JSON.parse(body).markdown.text as string;
    expect(text).toContain(TRUNCATION_MARKER);
    expect(text).toContain('[Open in Airflow]');
    expect(text).toContain('Threshold');
  });

  it('still fits when the facts alone are too big', () => {
    const fields = Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, value: '値'.repeat(50) }));
    const body = dingtalkBody({ ...baseAlert, fields });
    expect(bytes(body)).toBeLessThanOrEqual(20_000);
    expect(body).toContain(TRUNCATION_MARKER);
  });
});

describe('Feishu', () => {
  it('sends signed text with the timestamp in seconds as a string', () => {
    const body = JSON.parse(feishuBody(baseAlert, 'feishu-secret', 1_700_000_000_999));
    expect(body.timestamp).toBe('1700000000');
    expect(typeof body.sign).toBe('string');
    expect(body.msg_type).toBe('text');
    expect(body.content.text).toContain('🔴 [CRITICAL] Scheduler heartbeat is stale');
    expect(body.content.text).toContain('Airflow: https://airflow.example.com/dags/etl_daily/grid');
  });

  it('omits timestamp and sign without a secret', () => {
    const body = JSON.parse(feishuBody(baseAlert, undefined, 0));
    expect(body).not.toHaveProperty('sign');
    expect(body).not.toHaveProperty('timestamp');
  });

  it('keeps the body within 20 KB', () => {
    const body = feishuBody(huge, 'feishu-secret', Date.now());
    expect(bytes(body)).toBeLessThanOrEqual(20_000);
    expect(JSON.parse(body).content.text).toContain(TRUNCATION_MARKER);
  });
});

describe('WeCom', () => {
  it('sends markdown with a coloured severity', () => {
    const body = JSON.parse(wecomBody(baseAlert));
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.content).toContain('<font color="warning">[CRITICAL]</font>');
    expect(body.markdown.content).toContain('> DAG: etl_daily');
    const resolved = JSON.parse(wecomBody({ ...baseAlert, severity: 'resolved' }));
    expect(resolved.markdown.content).toContain('<font color="info">[RESOLVED]</font>');
  });

  it('keeps the markdown content within 4096 bytes of UTF-8', () => {
    const content = JSON.parse(wecomBody(huge)).markdown.content as string;
    expect(bytes(content)).toBeLessThanOrEqual(WECOM_CONTENT_MAX);
    expect(bytes(content)).toBeGreaterThan(WECOM_CONTENT_MAX - 100);
    expect(content).toContain(TRUNCATION_MARKER);
  });
});

describe('Microsoft Teams', () => {
  it('wraps an Adaptive Card 1.4 in the message envelope', () => {
    const body = JSON.parse(teamsBody(baseAlert));
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    expect(body.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = body.attachments[0].content;
    expect(card.type).toBe('AdaptiveCard');
    expect(card.version).toBe('1.4');
    expect(card.body[0]).toMatchObject({ type: 'TextBlock', color: 'Attention', weight: 'Bolder' });
    expect(card.body[1]).toEqual({
      type: 'FactSet',
      facts: [
        { title: 'Environment', value: 'prod-mwaa' },
        { title: 'DAG', value: 'etl_daily' },
        { title: 'Run', value: 'scheduled__2025-01-01T00:00:00+00:00' },
      ],
    });
    expect(card.actions).toEqual([
      {
        type: 'Action.OpenUrl',
        title: 'Open in Airflow',
        url: 'https://airflow.example.com/dags/etl_daily/grid',
      },
    ]);
  });

  it('stays under the ~28 KB message limit', () => {
    const body = teamsBody(huge);
    expect(bytes(body)).toBeLessThanOrEqual(27_000);
    expect(body).toContain(TRUNCATION_MARKER);
  });
});

describe('Amazon SNS', () => {
  it('builds an ASCII subject under 100 characters', () => {
    expect(snsSubject(baseAlert)).toBe('[CRITICAL] prod-mwaa: Scheduler heartbeat is stale');
    const long = snsSubject({ ...baseAlert, title: 'x'.repeat(300) });
    expect(long.length).toBeLessThan(100);
    expect(long.endsWith('...')).toBe(true);
  });

  it('drops non-ASCII and control characters, falling back to a generic subject', () => {
    expect(snsSubject({ ...baseAlert, environment: '本番', title: '调度器\n停止' })).toBe(
      '[CRITICAL] Airkick alert',
    );
    expect(snsSubject({ ...baseAlert, title: 'DAG 失败 etl' })).toBe('[CRITICAL] prod-mwaa: DAG etl');
  });

  it('keeps the message within 256 KB and adds a severity attribute for filter policies', () => {
    const message = snsMessage({ ...baseAlert, summary: hugeSummary.repeat(2) });
    expect(bytes(message)).toBeLessThanOrEqual(256 * 1024);
    expect(message).toContain(TRUNCATION_MARKER);
    const input = snsPublishInput('arn:aws:sns:eu-west-1:123456789012:alerts', baseAlert);
    expect(input.MessageAttributes?.severity).toEqual({ DataType: 'String', StringValue: 'critical' });
  });
});

describe('generic webhook', () => {
  it('carries the alert as given, with nulls for absent optionals', () => {
    const { dagId: _omitted, ...withoutDag } = baseAlert;
    const payload = webhookPayload(withoutDag, Date.UTC(2025, 0, 1));
    expect(payload).toEqual({
      version: 1,
      sentAt: '2025-01-01T00:00:00.000Z',
      alert: {
        title: baseAlert.title,
        severity: 'critical',
        environment: 'prod-mwaa',
        dagId: null,
        runId: baseAlert.runId,
        summary: baseAlert.summary,
        fields: baseAlert.fields,
        link: baseAlert.link,
      },
    });
  });
});

/**
 * The channel table (lib/alerts/channels/registry.ts) is the one description of every alert channel:
 * the configuration accepts exactly its variables, the cold start builds exactly its configured rows,
 * and both deploy files pass every channel variable to every function (SNS only on AWS).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServerless, loadSYaml } from '#cli/local/config-files.ts';
import { CHANNELS } from '#lib/alerts/channels/registry.ts';
import { loadAlertsConfig, parseAlertsEnv } from '#lib/alerts/config.ts';
import { createChannels } from '#lib/alerts/setup.ts';

const rows = Object.entries(CHANNELS);
const variables = (deploy?: 'aws') =>
  rows
    .filter(([, row]) => deploy === 'aws' || row.deploy === 'both')
    .flatMap(([, row]) => Object.values(row.variables).map((v) => v.env));
const noResolver = async () => {
  throw new Error('no reference expected');
};
const sample = {
  url: 'https://hooks.example.com/x',
  secret: 'sample-secret-1',
  'sns-topic-arn': 'arn:aws:sns:eu-west-1:123456789012:alerts',
};

type Json = Record<string, unknown>;
const environmentOf = (fn: unknown, key: string): Json => ((fn as Json)[key] ?? {}) as Json;

describe('the alert channel table', () => {
  it('has a module in lib/alerts/channels/ for every row, and a row for every module', () => {
    const modules = readdirSync(path.resolve(import.meta.dirname, '../../lib/alerts/channels'))
      .map((f) => f.replace(/\.ts$/, ''))
      .filter((f) => !['common', 'registry'].includes(f));
    expect(modules.sort()).toEqual(Object.keys(CHANNELS).sort());
  });

  it('is the only place in lib/, cli/ and functions/ that names a channel (a new one is its module plus a row)', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const sources = ['lib', 'cli', 'functions'].flatMap((dir) =>
      readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith('.ts'))
        .map((e) => path.relative(root, path.join(e.parentPath, e.name))),
    );
    for (const [name, row] of rows) {
      const mentions = [`channels/${name}.ts`, ...Object.values(row.variables).map((v) => v.env)];
      const where = sources.filter((file) => {
        const text = readFileSync(path.join(root, file), 'utf8');
        return mentions.some((m) => text.includes(m));
      });
      expect(where, name).toEqual(['lib/alerts/channels/registry.ts']);
    }
  });

  it('is what the configuration accepts: every row variable, and a misspelt one is refused', () => {
    const all = Object.fromEntries(
      rows.flatMap(([, row]) => Object.values(row.variables).map((v) => [v.env, sample[v.kind]])),
    );
    expect(Object.keys(parseAlertsEnv(all)).sort()).toEqual(variables('aws').sort());
    expect(() => parseAlertsEnv({ AIRKICK_ALERT_SLACKK_URL: sample.url })).toThrow(
      /unknown variable AIRKICK_ALERT_SLACKK_URL/,
    );
  });

  it('builds one channel per configured row, in table order, named after the row', async () => {
    const all = Object.fromEntries(
      rows.flatMap(([, row]) => Object.values(row.variables).map((v) => [v.env, sample[v.kind]])),
    );
    const config = await loadAlertsConfig(all, { resolver: noResolver });
    const channels = await createChannels(config, { snsClient: { send: async () => ({}) } as never });
    expect(channels.map((c) => c.name)).toEqual(Object.keys(CHANNELS));
  });

  it('is what serverless.yml passes to every Lambda function', () => {
    const doc = loadServerless() as Json;
    const provider = environmentOf(doc.provider, 'environment');
    for (const [name, fn] of Object.entries(doc.functions as Json)) {
      const env = { ...provider, ...environmentOf(fn, 'environment') };
      expect(
        variables('aws').filter((v) => !(v in env)),
        name,
      ).toEqual([]);
    }
  });

  it('is what s.yaml passes to every Function Compute function, without the AWS-only channels', () => {
    const doc = loadSYaml() as Json;
    const functions = Object.entries(doc.resources as Json);
    expect(functions.length).toBeGreaterThanOrEqual(4);
    const awsOnly = variables('aws').filter((v) => !variables().includes(v));
    expect(awsOnly).toEqual(['AIRKICK_ALERT_SNS_TOPIC_ARN']);
    for (const [name, resource] of functions) {
      const env = environmentOf((resource as Json).props, 'environmentVariables');
      expect(
        variables().filter((v) => !(v in env)),
        name,
      ).toEqual([]);
      expect(
        awsOnly.filter((v) => v in env),
        name,
      ).toEqual([]);
    }
  });
});

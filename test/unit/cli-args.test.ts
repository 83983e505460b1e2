import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildCommand, parseCliJson, quoteArg } from '#lib/airflow/cli-args.ts';

/** The gateways split the command with Python's shlex; check against the real thing. */
function shlexSplit(command: string): string[] {
  const out = execFileSync(
    'python3',
    ['-c', 'import json,shlex,sys; print(json.dumps(shlex.split(sys.stdin.read())))'],
    {
      input: command,
      encoding: 'utf8',
    },
  );
  return JSON.parse(out) as string[];
}

const hostile = [
  '{"msg": "it\'s \\"quoted\\""}',
  'line one\nline two',
  '$(rm -rf /); echo pwned',
  '`id`',
  '; dags delete x',
  'ünïcødé 日本語 🚀',
  "'",
  '"',
  '\\',
  '',
  '  leading and trailing  ',
  '--conf',
  '#not a comment',
  '*?[glob]',
];

describe('CLI argument quoting', () => {
  it('keeps every hostile argument one word, byte for byte, through shlex', () => {
    const args = ['dags', 'trigger', 'airkick_conf', '--conf', ...hostile];
    expect(shlexSplit(buildCommand(args))).toEqual(args);
  });

  it('round-trips a JSON conf with quotes, newlines, unicode, $() and ;', () => {
    const conf = JSON.stringify({ key: 'a\'b"c\nd$(x);e ünï 🚀', path: '../x+y%20z' });
    const [, , , , value] = shlexSplit(buildCommand(['dags', 'trigger', 'd', '--conf', conf]));
    expect(JSON.parse(value as string)).toEqual(JSON.parse(conf));
  });

  it('leaves plain words bare and refuses a leading "airflow" or NUL', () => {
    expect(buildCommand(['dags', 'list', '-o', 'json'])).toBe('dags list -o json');
    expect(quoteArg('2026-01-01T00:00:00+00:00')).toBe('2026-01-01T00:00:00+00:00');
    expect(() => buildCommand(['airflow', 'dags', 'list'])).toThrow(/without the leading "airflow"/);
    expect(() => buildCommand(['x\0y'])).toThrow(/NUL/);
    expect(() => buildCommand([])).toThrow(/at least one/);
  });

  it('reads -o json output after log lines', () => {
    const stdout = '[2026-01-01] {x.py:1} WARNING - noise\n[{"dag_id": "a"}, {"dag_id": "b"}]\n';
    expect(parseCliJson(stdout)).toEqual([{ dag_id: 'a' }, { dag_id: 'b' }]);
    expect(parseCliJson('[\n  {"a": 1}\n]')).toEqual([{ a: 1 }]);
    expect(() => parseCliJson('no json here')).toThrow(/no JSON/);
  });
});

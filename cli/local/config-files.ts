/**
 * Reads serverless.yml and s.yaml the way their tools would for a default deployment, resolving
 * only the variable forms the two files use. Anything else stays visible (and fails the checks that
 * read it) rather than being guessed at.
 *
 * serverless.yml: `${param:x}` (params.default, then params.<stage>), `${sls:stage}`,
 * `${self:service}`, `${self:provider.region}`, `${opt:name, 'fallback'}`; CloudFormation's own
 * `${AWS::Region}` placeholders are left alone.
 * s.yaml: `${vars.a.b}` and `${env('NAME', 'fallback')}`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const ROOT = path.resolve(import.meta.dirname, '../..');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Replaces `${...}` references until none that `resolve` knows is left; whole-value references keep their type. */
function substitute(value: unknown, resolve: (ref: string) => unknown, depth = 0): unknown {
  if (depth > 10) throw new Error('variable references nest too deeply');
  if (typeof value === 'string') {
    const whole = /^\$\{([^{}]+)\}$/.exec(value);
    if (whole?.[1] !== undefined) {
      const resolved = resolve(whole[1].trim());
      return resolved === undefined ? value : substitute(resolved, resolve, depth + 1);
    }
    let changed = false;
    const out = value.replace(/\$\{([^{}]+)\}/g, (match, ref: string) => {
      const resolved = resolve(ref.trim());
      if (resolved === undefined) return match;
      changed = true;
      return String(resolved);
    });
    return changed ? substitute(out, resolve, depth + 1) : out;
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, resolve, depth));
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, resolve, depth)]));
  }
  return value;
}

function lookup(root: unknown, dotted: string): unknown {
  let node: unknown = root;
  for (const key of dotted.split('.')) {
    if (!isRecord(node)) return undefined;
    node = node[key];
  }
  return node;
}

function unquote(text: string): string {
  return text.trim().replace(/^(['"])(.*)\1$/, '$2');
}

export function readYaml(file: string): unknown {
  return parse(readFileSync(path.join(ROOT, file), 'utf8'));
}

export interface ServerlessOptions {
  stage?: string;
  params?: Record<string, string>;
}

/** serverless.yml with the variables osls would resolve for `osls package --stage <stage>`. */
export function loadServerless(options: ServerlessOptions = {}): Record<string, Json> {
  const raw = readYaml('serverless.yml');
  if (!isRecord(raw)) throw new Error('serverless.yml is not a mapping');
  const stage = options.stage ?? 'dev';
  const params = isRecord(raw.params) ? raw.params : {};
  const merged: Record<string, unknown> = {
    ...(isRecord(params.default) ? params.default : {}),
    ...(isRecord(params[stage]) ? params[stage] : {}),
    ...options.params,
  };
  const resolve = (ref: string): unknown => {
    const [source = '', ...rest] = ref.split(':');
    const address = rest.join(':');
    if (source === 'AWS' || address.startsWith(':')) return undefined; // CloudFormation Fn::Sub
    const [name = '', fallback] = address.split(',');
    switch (source) {
      case 'param':
        return merged[name.trim()];
      case 'sls':
        return name.trim() === 'stage' ? stage : undefined;
      case 'self':
        return lookup(raw, name.trim());
      case 'opt':
        return name.trim() === 'stage' ? stage : fallback === undefined ? undefined : unquote(fallback);
      default:
        return undefined;
    }
  };
  return substitute(raw, resolve) as Record<string, Json>;
}

/** s.yaml as `s preview` renders it with the given environment (only `env` and `vars` references). */
export function loadSYaml(env: Record<string, string | undefined> = {}): Record<string, Json> {
  const raw = readYaml('s.yaml');
  if (!isRecord(raw)) throw new Error('s.yaml is not a mapping');
  const resolve = (ref: string): unknown => {
    const call = /^env\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])(.*)\3\s*)?\)$/.exec(ref);
    if (call) return env[call[2] ?? ''] ?? call[4];
    if (ref.startsWith('vars.')) return lookup(raw.vars, ref.slice('vars.'.length));
    return undefined;
  };
  return substitute(raw, resolve) as Record<string, Json>;
}

/** The unresolved `${...}` references left in a rendered document, with their paths. */
export function unresolvedReferences(value: unknown, at = '$'): string[] {
  if (typeof value === 'string') {
    const refs = [...value.matchAll(/\$\{([^{}]+)\}/g)].map((m) => m[1] ?? '');
    return refs
      .filter((ref) => !/^AWS::|^[A-Za-z0-9]+(\.[A-Za-z]+)?$/.test(ref))
      .map((ref) => `${at}: \${${ref}}`);
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => unresolvedReferences(item, `${at}[${i}]`));
  if (isRecord(value))
    return Object.entries(value).flatMap(([k, v]) => unresolvedReferences(v, `${at}.${k}`));
  return [];
}

/**
 * One string names an Airflow environment:
 *   mwaa://NAME?region=us-east-1[&auth=rest|session][&endpoint=URL][&api=v1|v2|auto]
 *   dms://AIRFLOW_ID?region=cn-hangzhou[&vpc=true][&endpoint=URL][&api=v1|v2|auto]
 *   https://user@host:8080[/prefix][?api=v1|v2|auto]   (password from the URL or AIRKICK_AIRFLOW_PASSWORD)
 * `endpoint` replaces the cloud's control-plane endpoint (VPC endpoints, proxies, emulators).
 * `api` names the REST API: `v1` (Airflow 2), `v2` (Airflow 3), or `auto` (default: ask the server once).
 */
import type { ApiVersion } from './airflow/transport.ts';
import { AirkickError } from './errors.ts';

export type EnvironmentSpec = MwaaSpec | DmsSpec | SelfHostedSpec;

interface CommonSpec {
  /** The REST API to speak; absent: ask the server. */
  api?: ApiVersion;
}

export interface MwaaSpec extends CommonSpec {
  kind: 'mwaa';
  name: string;
  region: string;
  /** `rest`: InvokeRestApi (IAM), falling back to `session` (web login) when the Airflow role is missing. */
  auth: 'rest' | 'session';
  endpoint?: string;
}

export interface DmsSpec extends CommonSpec {
  kind: 'dms';
  airflowId: string;
  region: string;
  endpoint: string;
}

export interface SelfHostedSpec extends CommonSpec {
  kind: 'self-hosted';
  baseUrl: string;
  username?: string;
  password?: string;
}

export function parseEnvironment(text: string, password?: string): EnvironmentSpec {
  const fail = (why: string): never => {
    throw new AirkickError('CONFIG', `environment "${text.replace(/:[^:@/]*@/, ':***@')}": ${why}`);
  };
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return fail('expected mwaa://NAME?region=..., dms://AIRFLOW_ID?region=... or http(s)://host');
  }
  const params = url.searchParams;
  const known = (allowed: string[]) => {
    for (const key of params.keys()) if (!allowed.includes(key)) fail(`unknown option "${key}"`);
  };
  const endpoint = params.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) fail('endpoint must be an http(s) URL');
  const apiParam = params.get('api') ?? 'auto';
  if (apiParam !== 'v1' && apiParam !== 'v2' && apiParam !== 'auto')
    fail(`api must be "v1" (Airflow 2), "v2" (Airflow 3) or "auto", not "${apiParam}"`);
  const api = apiParam === 'auto' ? {} : { api: apiParam as ApiVersion };
  switch (url.protocol) {
    case 'mwaa:': {
      known(['region', 'auth', 'endpoint', 'api']);
      const name = decodeURIComponent(url.hostname || url.pathname.replace(/^\/+/, ''));
      if (!/^[a-zA-Z][0-9a-zA-Z_-]{0,79}$/.test(name))
        fail('an MWAA environment name is letters, digits, - and _');
      const region = params.get('region') ?? fail('region is required, e.g. ?region=us-east-1');
      const auth = params.get('auth') ?? 'rest';
      if (auth !== 'rest' && auth !== 'session') fail('auth must be "rest" or "session"');
      return { kind: 'mwaa', name, region, auth, ...(endpoint ? { endpoint } : {}), ...api } as MwaaSpec;
    }
    case 'dms:': {
      known(['region', 'vpc', 'endpoint', 'api']);
      const airflowId = decodeURIComponent(url.hostname || url.pathname.replace(/^\/+/, ''));
      if (!airflowId) fail('the Airflow id is missing, e.g. dms://af-xxxx?region=cn-hangzhou');
      const region = params.get('region') ?? fail('region is required, e.g. ?region=cn-hangzhou');
      const host =
        params.get('vpc') === 'true' ? `dms-vpc.${region}.aliyuncs.com` : `dms.${region}.aliyuncs.com`;
      return { kind: 'dms', airflowId, region, endpoint: endpoint ?? `https://${host}`, ...api };
    }
    case 'http:':
    case 'https:': {
      known(['api']);
      const username = url.username ? decodeURIComponent(url.username) : undefined;
      const secret = url.password ? decodeURIComponent(url.password) : password;
      url.username = '';
      url.password = '';
      url.search = '';
      const baseUrl = url.toString().replace(/\/+$/, '');
      return {
        kind: 'self-hosted',
        baseUrl,
        ...(username ? { username } : {}),
        ...(secret ? { password: secret } : {}),
        ...api,
      };
    }
    default:
      return fail(`unknown scheme "${url.protocol}"; use mwaa://, dms://, http:// or https://`);
  }
}

/** A name safe to log: no credentials. */
export function describeEnvironment(spec: EnvironmentSpec): string {
  switch (spec.kind) {
    case 'mwaa':
      return `mwaa://${spec.name}?region=${spec.region}`;
    case 'dms':
      return `dms://${spec.airflowId}?region=${spec.region}`;
    case 'self-hosted':
      return spec.baseUrl;
  }
}

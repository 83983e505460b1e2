/**
 * One string names an Airflow environment:
 *   mwaa://NAME?region=us-east-1[&auth=rest|session][&endpoint=URL][&api=v1|v2|auto]
 *   dms://AIRFLOW_ID?region=cn-hangzhou[&vpc=true][&endpoint=URL][&api=v1|v2|auto]
 *   https://user@host:8080[/prefix][?api=v1|v2|auto]   (password from the URL or AIRKICK_AIRFLOW_PASSWORD)
 * `endpoint` replaces the cloud's control-plane endpoint (VPC endpoints, proxies, emulators).
 * `api` names the REST API: `v1` (Airflow 2), `v2` (Airflow 3), or `auto` (default: ask the server once).
 */
import { AirkickError } from '#lib/errors.ts';

/**
 * Airflow's stable REST APIs, oldest first: the one table of API versions. A new one is a row here
 * and its dialect in `lib/airflow/apis.ts` (a `Record` over these keys, so a missing dialect is a
 * type error); the environment string accepts exactly these names.
 */
export const API_VERSIONS = {
  /** Airflow 2's `/api/v1`. */
  v1: { airflowMajor: 2 },
  /** Airflow 3's `/api/v2`. */
  v2: { airflowMajor: 3 },
} as const;

/**
 * `v1`: Airflow 2's stable REST API at `/api/v1`; `v2`: Airflow 3's at `/api/v2`.
 *
 * @useDeclaredType
 */
export type ApiVersion = keyof typeof API_VERSIONS;

const isApiVersion = (value: string): value is ApiVersion => Object.hasOwn(API_VERSIONS, value);

/** A parsed environment string, told apart by `kind`; {@link createAirflowClient} takes either form. */
export type EnvironmentSpec = MwaaSpec | DmsSpec | SelfHostedSpec;

interface CommonSpec {
  /** The REST API to speak; absent: ask the server. */
  api?: ApiVersion;
}

/** `mwaa://NAME?region=...`: an Amazon MWAA environment. */
export interface MwaaSpec extends CommonSpec {
  /** Tells the spec kinds apart. */
  kind: 'mwaa';
  /** The MWAA environment's name. */
  name: string;
  /** Its AWS region, e.g. `us-east-1`. */
  region: string;
  /** `rest`: InvokeRestApi (IAM), falling back to `session` (web login) when the Airflow role is missing. */
  auth: 'rest' | 'session';
  /**
   * Replaces the MWAA control-plane endpoint (VPC endpoint, proxy, emulator); an `http://` one makes the
   * web server plain http too.
   */
  endpoint?: string;
}

/** `dms://AIRFLOW_ID?region=...`: an Alibaba Cloud DMS Airflow instance. */
export interface DmsSpec extends CommonSpec {
  /** Tells the spec kinds apart. */
  kind: 'dms';
  /** The DMS Airflow instance id, e.g. `af-xxxx`. */
  airflowId: string;
  /** Its region, e.g. `cn-hangzhou`. */
  region: string;
  /** The DMS OpenAPI endpoint: `endpoint=`, else `https://dms.<region>.aliyuncs.com` (`dms-vpc.` for VPC). */
  endpoint: string;
}

/** `http(s)://user@host[:port][/prefix]`: an Airflow reached directly. */
export interface SelfHostedSpec extends CommonSpec {
  /** Tells the spec kinds apart. */
  kind: 'self-hosted';
  /** Where `/api/v1` or `/api/v2` lives: the URL without credentials, query or trailing slash. */
  baseUrl: string;
  /** The Airflow user; absent: requests go without credentials. */
  username?: string;
  /** The password from the URL, else the one given to {@link parseEnvironment}. */
  password?: string;
}

/**
 * The text with the userinfo password masked: everything from the first `:` after `://` to the last
 * `@` (a password may hold `:` or `@` unencoded).
 */
function maskPassword(text: string): string {
  const scheme = text.indexOf('://');
  const at = text.lastIndexOf('@');
  const colon = scheme < 0 ? -1 : text.indexOf(':', scheme + 3);
  if (colon < 0 || at < colon) return text;
  return `${text.slice(0, colon)}:***${text.slice(at)}`;
}

/**
 * Parses an environment string; makes no request.
 * - `mwaa://NAME?region=us-east-1[&auth=rest|session][&endpoint=URL][&api=v1|v2|auto]`
 * - `dms://AIRFLOW_ID?region=cn-hangzhou[&vpc=true][&endpoint=URL][&api=v1|v2|auto]`
 * - `https://user@host:8080[/prefix][?api=v1|v2|auto]`, the password in the URL or else `password`
 *
 * `api` names the REST API: `v1` (Airflow 2), `v2` (Airflow 3) or `auto` (the default: ask the server
 * once). Throws `CONFIG` naming what is wrong (an unknown scheme or option, a missing region), with the
 * URL's password masked.
 */
export function parseEnvironment(text: string, password?: string): EnvironmentSpec {
  const fail = (why: string): never => {
    throw new AirkickError('CONFIG', `environment "${maskPassword(text)}": ${why}`);
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
  if (apiParam !== 'auto' && !isApiVersion(apiParam)) {
    const names = Object.entries(API_VERSIONS).map(([name, v]) => `"${name}" (Airflow ${v.airflowMajor})`);
    fail(`api must be ${names.join(', ')} or "auto", not "${apiParam}"`);
  }
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

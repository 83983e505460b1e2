/**
 * `npm start`: the four functions running locally on their serverless.yml schedules, through
 * their deployed handlers, against the local Airflow (started here) or the environment in --env.
 * A folder stands in for the upload bucket. Ctrl-C stops everything. See START_HELP.
 */

import { exitCodeFor, formatError } from '#cli/exit.ts';
import { cloudFor, type Handler, invoker, loadHandler } from '#cli/local/functions.ts';
import { installLogFormatter } from '#cli/local/log-format.ts';
import { localEnv, parseStartArgs, START_HELP, type StartOptions } from '#cli/local/options.ts';
import { type FunctionSchedule, functionTimeouts, loadSchedules, nextFire } from '#cli/local/schedules.ts';
import { UploadFolder } from '#cli/local/uploads.ts';
import { parseEnvironment } from '#lib/environment.ts';
import type { FunctionName } from '#lib/host/names.ts';
import type { AirflowInstance } from '#test/airflow/airflow.ts';

const SCAN_INTERVAL_MS = 1_000;
/** setTimeout's ceiling; longer waits re-arm. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** start.ts's own lines, in the Powertools shape so the formatter and log tools treat them alike. */
function log(level: 'INFO' | 'WARN' | 'ERROR', message: string, extra: Record<string, unknown> = {}) {
  process.stdout.write(
    `${JSON.stringify({ level, message, timestamp: new Date().toISOString(), function: 'local', ...extra })}\n`,
  );
}

let options: StartOptions;
try {
  options = parseStartArgs(process.argv.slice(2), process.env, Boolean(process.stdout.isTTY));
} catch (error) {
  process.stderr.write(`${formatError(error)}\n\n${START_HELP}\n`);
  process.exit(exitCodeFor(error));
}
if (options.help) {
  process.stdout.write(`${START_HELP}\n`);
  process.exit(0);
}
if (options.logFormat === 'pretty') {
  installLogFormatter(process.stdout, true);
  installLogFormatter(process.stderr, true);
}

let airflow: AirflowInstance | undefined;
let stopping = false;
const timers = new Set<NodeJS.Timeout>();
const inflight = new Set<Promise<unknown>>();
let failures = 0;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const timer of timers) clearTimeout(timer);
    if (inflight.size > 0) {
      log('INFO', `waiting for ${inflight.size} running invocation(s)`);
      await Promise.race([Promise.allSettled(inflight), new Promise((r) => setTimeout(r, 15_000).unref())]);
    }
    if (airflow) {
      log('INFO', 'stopping the local Airflow');
      await airflow.stop();
    }
    log('INFO', 'stopped');
  }
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) {
      // A second Ctrl-C: do not wait; the harness's exit hook still kills Airflow's process groups.
      process.exit(130);
    }
    void stop(0);
  });
}

try {
  await run(options);
} catch (error) {
  log('ERROR', formatError(error));
  await stop(exitCodeFor(error) === 1 ? 1 : exitCodeFor(error));
}

async function run(opts: StartOptions): Promise<void> {
  let environment: string;
  let password: string | undefined;
  if (opts.mode === 'embedded') {
    const { startAirflow } = await import('#test/airflow/airflow.ts');
    log('INFO', 'starting the local Airflow (the first start provisions it and takes a few minutes)');
    airflow = await startAirflow({
      ...(opts.airflow === undefined ? {} : { version: opts.airflow }),
      name: 'local',
      persistent: true,
      log: (line) => log('INFO', line, { function: 'airflow' }),
    });
    if (stopping) return;
    const url = new URL(airflow.baseUrl);
    url.username = airflow.username;
    environment = url.toString().replace(/\/$/, '');
    password = airflow.password;
    log('INFO', `Airflow UI: ${airflow.baseUrl} (user ${airflow.username})`);
  } else {
    environment = opts.environment as string;
    parseEnvironment(environment); // a bad --env fails here, with its own message
  }
  Object.assign(process.env, localEnv(process.env, { environment, ...(password ? { password } : {}) }));

  const cloud = cloudFor(environment);
  const kind = parseEnvironment(environment).kind;
  const handlers: Partial<Record<FunctionName, Handler>> = {};
  for (const fn of ['trigger-dag', 'on-upload', 'health-check'] as const)
    handlers[fn] = await loadHandler(fn, cloud);
  if (airflow) {
    const { localDbClean } = await import('#cli/local/local-clean.ts');
    handlers['db-clean'] = localDbClean(airflow, process.env);
    log('INFO', 'db-clean runs the local `airflow db clean` (self-hosted Airflow has no CLI endpoint)');
  } else if (kind === 'self-hosted') {
    log('WARN', `db-clean is skipped: ${environment.replace(/:[^:@/]*@/, ':***@')} has no CLI endpoint`);
  } else handlers['db-clean'] = await loadHandler('db-clean', cloud);
  log(
    'INFO',
    `functions loaded (${cloud} handlers) for ${process.env.AIRKICK_ENV?.replace(/:[^:@/]*@/, ':***@')}`,
  );

  const invoke = invoker(cloud, handlers, functionTimeouts());
  const track = (fn: FunctionName, detail: string, work: () => Promise<unknown>): Promise<boolean> => {
    const started = Date.now();
    const promise = Promise.resolve()
      .then(work)
      .then(
        () => {
          log('INFO', `${fn} done`, { function: fn, duration_ms: Date.now() - started, detail });
          return true;
        },
        (error: unknown) => {
          failures++;
          log('ERROR', `${fn} failed`, { function: fn, detail, error: formatError(error) });
          return false;
        },
      );
    inflight.add(promise);
    void promise.finally(() => inflight.delete(promise));
    return promise;
  };

  const schedules = loadSchedules().filter((s) => handlers[s.function]);
  const fireSchedule = (s: FunctionSchedule, slot: Date) =>
    track(s.function, `slot ${slot.toISOString()}`, () => invoke.schedule(s.function, slot, s.name, s.input));

  const folder = new UploadFolder(opts.uploads);
  await folder.ensure();
  const scanUploads = async () => {
    for (const object of await folder.scan()) {
      void track('on-upload', `local/${object.key}`, () => invoke.upload(object));
    }
  };

  if (opts.once) {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const seen = new Set<string>();
    const runs = schedules
      .filter((s) => !seen.has(s.function) && seen.add(s.function))
      .map((s) => fireSchedule(s, now));
    await folder.scan();
    await new Promise((r) => setTimeout(r, 300));
    await scanUploads();
    await Promise.all([...runs, ...inflight]);
    await stop(failures > 0 ? 1 : 0);
    return;
  }

  for (const s of schedules) {
    if (!s.enabled) {
      log('INFO', `${s.function}: ${s.expression.text} is disabled in serverless.yml`, {
        function: s.function,
      });
      continue;
    }
    arm(s, nextFire(s.expression, new Date()), fireSchedule);
    // A first look right away at what the schedule would do; the slot is the start time.
    if (s.function === 'trigger-dag' || s.function === 'health-check') {
      void fireSchedule(s, new Date(Math.floor(Date.now() / 1000) * 1000));
    }
  }
  log('INFO', `watching ${opts.uploads} for uploads (bucket "local"); Ctrl-C stops`);
  const scan = () => {
    const timer = setTimeout(async () => {
      timers.delete(timer);
      await scanUploads().catch((error: unknown) =>
        log('ERROR', 'upload scan failed', { error: formatError(error) }),
      );
      if (!stopping) scan();
    }, SCAN_INTERVAL_MS);
    timers.add(timer);
  };
  scan();
}

function arm(s: FunctionSchedule, next: Date, fire: (s: FunctionSchedule, slot: Date) => unknown): void {
  if (stopping) return;
  log('INFO', `${s.function}: ${s.expression.text}, next at ${next.toISOString()}`, { function: s.function });
  const wait = () => {
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        if (Date.now() < next.getTime()) return wait();
        void fire(s, next);
        arm(s, nextFire(s.expression, next), fire);
      },
      Math.min(Math.max(0, next.getTime() - Date.now()), MAX_DELAY_MS),
    );
    timers.add(timer);
  };
  wait();
}

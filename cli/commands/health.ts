import { COMMON_OPTIONS, parse, parsePositiveInt, parseTimeout } from '#cli/args.ts';
import { COMMON_HELP, type Command } from '#cli/commands/command.ts';
import { connect } from '#cli/connect.ts';
import { EXIT, UsageError } from '#cli/exit.ts';
import { Output, shortTime } from '#cli/output.ts';
import type { ComponentHealth, Health } from '#lib/airflow/types.ts';
import { judgeHealth } from '#lib/jobs/health.ts';

export const health: Command = {
  name: 'health',
  summary: 'check the scheduler, triggerer and metadatabase',
  help: `Usage: airkick health [--max-heartbeat-age SECS]

Reads Airflow's health and judges it as the health-check function does.

Options:
  --max-heartbeat-age SECS  a heartbeat older than this is unhealthy (default 120)
${COMMON_HELP}

Exit: 0 healthy, 1 unhealthy, 5 unreachable.`,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...COMMON_OPTIONS,
      'max-heartbeat-age': { type: 'string', default: '120' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const maxHeartbeatAgeSeconds = parsePositiveInt(
      values['max-heartbeat-age'],
      '--max-heartbeat-age',
      86_400,
    );
    const out = new Output(io, values.json);
    const client = await connect(values.env, io.env);
    const reading = await out.spin(
      `reading the health of ${client.environment}`,
      client.health({ deadline: Date.now() + parseTimeout(values.timeout, 60) }),
    );
    const problems = judgeHealth(reading, { maxHeartbeatAgeSeconds });
    const healthy = problems.length === 0;
    if (values.json) {
      out.printJson({ environment: client.environment, healthy, problems, health: reading });
    } else {
      out.table(['COMPONENT', 'STATUS', 'LAST HEARTBEAT', 'AGE'], healthRows(reading, out));
      out.line();
      out.line(
        healthy ? out.paint('green', 'healthy') : out.paint('red', `unhealthy: ${problems.join('; ')}`),
      );
    }
    return healthy ? EXIT.OK : EXIT.FAILED;
  },
};

function healthRows(reading: Health, out: Output): string[][] {
  const component = (name: string, c: ComponentHealth | undefined) =>
    c
      ? [
          [
            name,
            out.state(c.status),
            shortTime(c.latestHeartbeat),
            c.heartbeatAgeSeconds === null ? '-' : `${Math.round(c.heartbeatAgeSeconds)} s`,
          ],
        ]
      : [];
  return [
    ['metadatabase', out.state(reading.metadatabase.status), '-', '-'],
    ...component('scheduler', reading.scheduler),
    ...component('triggerer', reading.triggerer),
    ...component('dag processor', reading.dagProcessor),
  ];
}

import { COMMON_OPTIONS, one, parse, parseList, parsePositiveInt, parseTimeout } from '#cli/args.ts';
import { COMMON_HELP, type Command } from '#cli/commands/command.ts';
import { connect } from '#cli/connect.ts';
import { EXIT, UsageError } from '#cli/exit.ts';
import { Output, shortTime } from '#cli/output.ts';
import type { DagRunState } from '#lib/airflow/types.ts';

const STATES: readonly DagRunState[] = ['queued', 'running', 'success', 'failed'];

export function parseStates(text: string): DagRunState[] {
  const states = parseList(text, '--state');
  const bad = states.find((s) => !STATES.includes(s as DagRunState));
  if (bad !== undefined) throw new UsageError(`--state "${bad}" is not one of ${STATES.join(', ')}`);
  return states as DagRunState[];
}

export const runs: Command = {
  name: 'runs',
  summary: 'list the latest runs of a DAG',
  help: `Usage: airkick runs <dag> [--state failed[,running...]] [--limit N]

Lists the runs of <dag>, newest first.

Options:
  --state LIST   only runs in these states: ${STATES.join(', ')}
  --limit N      at most N runs (default 20)
${COMMON_HELP}

Exit: 0 listed, 4 no such DAG.`,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...COMMON_OPTIONS,
      state: { type: 'string' },
      limit: { type: 'string', default: '20' },
    });
    const dagId = one(positionals, 'DAG id');
    const state = values.state === undefined ? undefined : parseStates(values.state);
    const limit = parsePositiveInt(values.limit, '--limit', 1000);
    const out = new Output(io, values.json);
    const client = await connect(values.env, io.env);
    const list = await out.spin(
      `listing runs of ${dagId}`,
      client.listDagRuns(
        dagId,
        { limit, orderBy: '-logical_date', ...(state ? { state } : {}) },
        { deadline: Date.now() + parseTimeout(values.timeout, 120) },
      ),
    );
    if (values.json) {
      out.printJson(list);
      return EXIT.OK;
    }
    out.table(
      ['RUN ID', 'STATE', 'LOGICAL DATE', 'STARTED', 'ENDED', 'TYPE'],
      list.map((r) => [
        r.runId,
        out.state(r.state),
        shortTime(r.logicalDate),
        shortTime(r.startDate),
        shortTime(r.endDate),
        r.runType ?? '-',
      ]),
    );
    return EXIT.OK;
  },
};

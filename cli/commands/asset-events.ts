import { COMMON_OPTIONS, one, parse, parseConf, parseTimeout } from '#cli/args.ts';
import { COMMON_HELP, type Command } from '#cli/commands/command.ts';
import { connect } from '#cli/connect.ts';
import { EXIT, UsageError } from '#cli/exit.ts';
import { Output } from '#cli/output.ts';
import type { AssetEvent } from '#lib/airflow/types.ts';

const runsOf = (event: AssetEvent) => event.createdRuns.map((r) => `${r.dagId}/${r.runId}`).join(', ') || '-';

export const assetEvent: Command = {
  name: 'asset-event',
  summary: 'raise an asset (dataset) event',
  help: `Usage: airkick asset-event <uri> [--extra JSON|@file]

Raises one event on the asset <uri> (Airflow 3; a dataset on Airflow 2.9 and later), which starts
the DAGs scheduled on it. The asset must be declared in a DAG. Sent once: every call is a new event.

Options:
  --extra JSON|@FILE  the event's extra, a JSON object inline or read from a file
${COMMON_HELP}

Exit: 0 raised, 3 no such asset (or an Airflow before 2.9).`,
  async run(args, io) {
    const { values, positionals } = parse(args, { ...COMMON_OPTIONS, extra: { type: 'string' } });
    const uri = one(positionals, 'asset URI');
    const extra = values.extra === undefined ? {} : parseConf(values.extra, undefined, '--extra');
    const out = new Output(io, values.json);
    const client = await connect(values.env, io.env);
    const event = await out.spin(
      `raising an event on ${uri}`,
      client.createAssetEvent({ uri, extra }, { deadline: Date.now() + parseTimeout(values.timeout, 60) }),
    );
    if (values.json) out.printJson(event);
    else
      out.line(`raised an event on ${out.paint('bold', uri)} (asset ${event.assetId}) at ${event.timestamp}`);
    return EXIT.OK;
  },
};

export const assetEvents: Command = {
  name: 'asset-events',
  summary: "list an asset's (dataset's) newest events",
  help: `Usage: airkick asset-events <uri> [--limit N] [--since ISO-TIME]

Lists the newest events of the asset <uri>, newest first, with the runs each one started.

Options:
  --limit N          at most N events (default 25)
  --since ISO-TIME   only events recorded at or after this time
${COMMON_HELP}`,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...COMMON_OPTIONS,
      limit: { type: 'string' },
      since: { type: 'string' },
    });
    const uri = one(positionals, 'asset URI');
    const limit = values.limit === undefined ? 25 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new UsageError(`--limit expects a whole number from 1 to 1000, got "${values.limit}"`);
    }
    if (values.since !== undefined && Number.isNaN(Date.parse(values.since))) {
      throw new UsageError(
        `--since expects an ISO 8601 time such as 2026-12-01T00:00:00Z, got "${values.since}"`,
      );
    }
    const out = new Output(io, values.json);
    const client = await connect(values.env, io.env);
    const events = await out.spin(
      `reading the events of ${uri}`,
      client.listAssetEvents(
        uri,
        { limit, ...(values.since ? { since: values.since } : {}) },
        { deadline: Date.now() + parseTimeout(values.timeout, 60) },
      ),
    );
    if (values.json) out.printJson(events);
    else
      out.table(
        ['TIME', 'RUNS', 'EXTRA'],
        events.map((e) => [e.timestamp, runsOf(e), JSON.stringify(e.extra)]),
      );
    return EXIT.OK;
  },
};

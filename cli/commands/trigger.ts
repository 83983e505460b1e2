import { COMMON_OPTIONS, one, parse, parseConf, parseTimeout } from '#cli/args.ts';
import { COMMON_HELP, type Command } from '#cli/commands/command.ts';
import { connect } from '#cli/connect.ts';
import { EXIT } from '#cli/exit.ts';
import { Output } from '#cli/output.ts';
import type { DagRun } from '#lib/airflow/types.ts';

export const trigger: Command = {
  name: 'trigger',
  summary: 'trigger a DAG run',
  help: `Usage: airkick trigger <dag> [--conf JSON|@file] [--run-id ID] [--note TEXT] [--wait]

Triggers one run of <dag>. With --run-id the trigger is idempotent: a second one reports the
existing run. With --wait it polls until the run ends and exits 1 if it failed.

Options:
  --conf JSON|@FILE  the run's conf, a JSON object inline or read from a file
  --run-id ID        the run id (default: Airflow's manual__<time>)
  --note TEXT        a note shown on the run in the UI
  --wait             wait for the run to finish (default --timeout: 3600)
${COMMON_HELP}

Exit: 0 triggered (or succeeded with --wait), 1 the run failed, 4 no such DAG.`,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...COMMON_OPTIONS,
      conf: { type: 'string' },
      'run-id': { type: 'string' },
      note: { type: 'string' },
      wait: { type: 'boolean', default: false },
    });
    const dagId = one(positionals, 'DAG id');
    const conf = values.conf === undefined ? undefined : parseConf(values.conf);
    const out = new Output(io, values.json);
    const deadline = Date.now() + parseTimeout(values.timeout, values.wait ? 3600 : 120);
    const client = await connect(values.env, io.env);
    const { run, alreadyTriggered } = await out.spin(
      `triggering ${dagId}`,
      client.triggerDagRun(
        {
          dagId,
          ...(conf ? { conf } : {}),
          ...(values['run-id'] ? { runId: values['run-id'] } : {}),
          ...(values.note ? { note: values.note } : {}),
        },
        { deadline },
      ),
    );
    let final: DagRun = run;
    if (values.wait) {
      final = await out.spin(
        `waiting for ${dagId} ${run.runId}`,
        client.waitForDagRun(dagId, run.runId, { deadline }),
      );
    }
    const url = client.uiUrl(dagId, run.runId);
    if (values.json) {
      out.printJson({ ...final, alreadyTriggered, ...(url ? { url } : {}) });
    } else {
      const verb = alreadyTriggered ? 'already triggered' : 'triggered';
      out.line(`${verb} ${out.paint('bold', dagId)} run ${final.runId}: ${out.state(final.state)}`);
      if (url) out.line(out.paint('dim', url));
    }
    return values.wait && final.state === 'failed' ? EXIT.FAILED : EXIT.OK;
  },
};

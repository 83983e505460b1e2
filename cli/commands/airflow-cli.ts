import { COMMON_OPTIONS, parse, parseTimeout } from '#cli/args.ts';
import { COMMON_HELP, type Command } from '#cli/commands/command.ts';
import { connect } from '#cli/connect.ts';
import { EXIT, UsageError } from '#cli/exit.ts';
import { Output } from '#cli/output.ts';

export const airflowCli: Command = {
  name: 'cli',
  summary: 'run an Airflow CLI command through the MWAA or DMS CLI endpoint',
  help: `Usage: airkick cli [options] -- <airflow command and args>

Runs an Airflow CLI command (without the leading "airflow") through the environment's CLI
endpoint (MWAA, DMS; self-hosted Airflow has none) and prints its stdout and stderr. Each
argument stays one word on the far side: nothing in it is interpreted by a shell.

Example:
  airkick cli --env mwaa://prod?region=eu-west-1 -- dags list -o json
${COMMON_HELP}

Exit: 0 done, 2 the gateway does not allow the command, 5 transport.`,
  async run(args, io) {
    const { values, positionals } = parse(args, COMMON_OPTIONS);
    if (positionals.length === 0) throw new UsageError('missing the Airflow command after --');
    const out = new Output(io, values.json);
    const client = await connect(values.env, io.env);
    const result = await out.spin(
      `airflow ${positionals.slice(0, 2).join(' ')}`,
      client.runCli(positionals, { deadline: Date.now() + parseTimeout(values.timeout, 300) }),
    );
    if (values.json) {
      out.printJson(result);
    } else {
      io.stdout.write(result.stdout);
      io.stderr.write(result.stderr);
    }
    return EXIT.OK;
  },
};

/** Human and JSON output: aligned tables, colour only on a terminal, a spinner on stderr for slow calls. */

export interface Stream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface Io {
  stdout: Stream;
  stderr: Stream;
  env: Record<string, string | undefined>;
}

const STYLES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;

export type Style = keyof typeof STYLES;

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI = /\u001b\[[0-9;]*m/g;

export const visibleWidth = (text: string) => [...text.replace(ANSI, '')].length;

export function paint(style: Style, text: string, enabled: boolean): string {
  if (!enabled) return text;
  const [open, close] = STYLES[style];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function formatTable(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((row) => visibleWidth(row[i] ?? ''))));
  return all
    .map((row) =>
      row
        .map((cell, i) =>
          i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleWidth(cell)),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const STATE_STYLE: Record<string, Style> = {
  success: 'green',
  healthy: 'green',
  failed: 'red',
  unhealthy: 'red',
  running: 'cyan',
  queued: 'yellow',
  unknown: 'yellow',
};

export class Output {
  readonly color: boolean;

  constructor(
    readonly io: Io,
    readonly json: boolean,
  ) {
    this.color = Boolean(io.stdout.isTTY) && !json && io.env.NO_COLOR === undefined;
  }

  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  table(headers: string[], rows: string[][]): void {
    if (rows.length === 0) {
      this.line(this.paint('dim', '(none)'));
      return;
    }
    this.line(
      formatTable(
        headers.map((h) => this.paint('bold', h)),
        rows,
      ),
    );
  }

  paint(style: Style, text: string): string {
    return paint(style, text, this.color);
  }

  /** A state word coloured by what it means (success green, failed red...). */
  state(state: string): string {
    const style = STATE_STYLE[state];
    return style ? this.paint(style, state) : state;
  }

  /** Runs `work` with a spinner on stderr when stderr is a terminal (never in --json mode). */
  async spin<T>(label: string, work: Promise<T>): Promise<T> {
    const stderr = this.io.stderr;
    if (!stderr.isTTY || this.json) return work;
    const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let i = 0;
    const draw = () => stderr.write(`\r${frames[i++ % frames.length]} ${label}`);
    draw();
    const timer = setInterval(draw, 80);
    try {
      return await work;
    } finally {
      clearInterval(timer);
      stderr.write(`\r${' '.repeat(visibleWidth(label) + 2)}\r`);
    }
  }
}

/** `2026-11-21T06:00:00.123456+00:00` -> `2026-11-21 06:00:00Z`; `-` for none. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/**
 * A local folder standing in for the upload bucket. Each scan reports the files that are new or
 * changed and have stopped growing (same size and mtime as in the previous scan), as the objects
 * an S3 `ObjectCreated:Put` would announce: key = the path relative to the folder, etag = md5,
 * sequencer from mtime and size. The sequencer is stable for an unchanged file, so announcing it
 * again (a restart) meets the run id Airflow already has instead of starting a second run.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { LocalObject } from '#cli/local/events.ts';

interface Seen {
  size: number;
  mtimeMs: number;
  reported: boolean;
}

export function sequencer(mtimeMs: number, size: number): string {
  return (
    Math.floor(mtimeMs).toString(16).padStart(12, '0') + size.toString(16).padStart(12, '0')
  ).toUpperCase();
}

export class UploadFolder {
  readonly #seen = new Map<string, Seen>();

  constructor(
    readonly root: string,
    readonly bucket = 'local',
  ) {}

  async ensure(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  /** The files ready to announce since the last scan. Dot-files (editors' temp files) are ignored. */
  async scan(): Promise<LocalObject[]> {
    const ready: LocalObject[] = [];
    const present = new Set<string>();
    for (const path of await listFiles(this.root)) {
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) continue;
      present.add(path);
      const before = this.#seen.get(path);
      const unchanged = before !== undefined && before.size === info.size && before.mtimeMs === info.mtimeMs;
      if (unchanged && !before.reported) {
        ready.push({
          bucket: this.bucket,
          key: relative(this.root, path).split(sep).join('/'),
          size: info.size,
          etag: await md5(path),
          sequencer: sequencer(info.mtimeMs, info.size),
          eventTime: info.mtime,
        });
        before.reported = true;
      } else if (!unchanged) {
        this.#seen.set(path, { size: info.size, mtimeMs: info.mtimeMs, reported: false });
      }
    }
    for (const path of this.#seen.keys()) if (!present.has(path)) this.#seen.delete(path);
    return ready;
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

function md5(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('md5');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

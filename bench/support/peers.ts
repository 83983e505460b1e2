/**
 * The peers airkick's bundles are measured against (bench/peers/), built by build.ts's own `buildAll`
 * so they get exactly the options airkick's functions get, whatever build.ts says today. `buildAll`
 * builds `<root>/functions/<name>/<cloud>.ts` for both clouds, so each peer gets a generated root whose
 * entries re-export it: the floor on both clouds (the Function Compute rows are held against a floor
 * on FC's Node), the AWS sample on Lambda only (its FC entry is a stub that is never run).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cloud } from '#lib/host/names.ts';
import { buildAll } from '../../build.ts';

export const PEERS = ['floor', 'aws-sample', 'consumer'] as const;
export type PeerName = (typeof PEERS)[number];

/** Which cloud each peer is measured on. */
export const PEER_CLOUDS: Record<PeerName, readonly Cloud[]> = {
  floor: ['aws', 'aliyun'],
  'aws-sample': ['aws'],
  // A user's Lambda handler on the package: what the library costs its users (bench/peers/consumer.ts).
  consumer: ['aws'],
};

const NOT_ON_FC = `export const handler = () => { throw new Error('this peer has no Function Compute shape'); };\n`;

/** Bundles every peer into `<dir>/dist/<cloud>/<name>/index.js`, beside the snapshot's functions. */
export async function buildPeers(dir: string): Promise<void> {
  const root = join(dir, 'peers');
  for (const name of PEERS) {
    const folder = join(root, 'functions', name);
    await mkdir(folder, { recursive: true });
    const source = JSON.stringify(join(import.meta.dirname, '..', 'peers', `${name}.ts`));
    const entry = `export { handler } from ${source};\n`;
    await writeFile(join(folder, 'aws.ts'), entry);
    await writeFile(join(folder, 'aliyun.ts'), PEER_CLOUDS[name].includes('aliyun') ? entry : NOT_ON_FC);
  }
  await buildAll({ root, outdir: join(dir, 'dist'), names: PEERS });
}

/**
 * The layers of lib/ point one way. Each module belongs to the first layer whose pattern matches
 * its path; an import (static, re-export or dynamic) may reach its own layer or one below, never
 * one above. The order is the README's "Architecture" picture, lowest first.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const LIB = path.join(ROOT, 'lib');

/** Lowest first. A module may import its own layer and those before it. */
const LAYERS: readonly { name: string; modules: RegExp }[] = [
  { name: 'validation', modules: /^lib\/zod\.ts$/ },
  { name: 'redaction', modules: /^lib\/secrets\/redaction\.ts$/ },
  { name: 'errors', modules: /^lib\/errors\.ts$/ },
  { name: 'deadline', modules: /^lib\/deadline\.ts$/ },
  { name: 'optional packages', modules: /^lib\/optional\.ts$/ },
  { name: 'http', modules: /^lib\/(http|retry)\.ts$/ },
  { name: 'secret references', modules: /^lib\/secrets\/references\.ts$/ },
  { name: 'environment', modules: /^lib\/environment\.ts$/ },
  { name: 'airflow', modules: /^lib\/airflow\// },
  { name: 'auth', modules: /^lib\/auth\// },
  { name: 'client', modules: /^lib\/client\.ts$/ },
  { name: 'events', modules: /^lib\/events\// },
  { name: 'alerts', modules: /^lib\/alerts\// },
  { name: 'config', modules: /^lib\/config\.ts$/ },
  { name: 'jobs', modules: /^lib\/jobs\// },
  { name: 'host', modules: /^lib\/host\// },
  { name: 'package entry points', modules: /^lib\/(index|mwaa|dms)\.ts$/ },
];

const IMPORT = /(?:import|export)\s[^'";]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

function libFiles(dir = LIB): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return libFiles(full);
    return entry.name.endsWith('.ts') ? [path.relative(ROOT, full)] : [];
  });
}

/** The lib/ module an import specifier names, or undefined for a package or node: import. */
function target(from: string, specifier: string): string | undefined {
  if (specifier.startsWith('#lib/')) return `lib/${specifier.slice('#lib/'.length)}`;
  if (specifier.startsWith('.'))
    return path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  return undefined;
}

function layerOf(file: string): number {
  const index = LAYERS.findIndex((layer) => layer.modules.test(file));
  if (index < 0) throw new Error(`${file} belongs to no layer: add it to LAYERS (and the README)`);
  return index;
}

interface Edge {
  from: string;
  to: string;
  specifier: string;
}

function libImports(): Edge[] {
  return libFiles().flatMap((from) => {
    const text = readFileSync(path.join(ROOT, from), 'utf8');
    return [...text.matchAll(IMPORT)].flatMap((match) => {
      const specifier = (match[1] ?? match[2]) as string;
      const to = target(from, specifier);
      return to === undefined ? [] : [{ from, to, specifier }];
    });
  });
}

describe('the layers of lib/', () => {
  const edges = libImports();

  it('sees the imports (the scan is not empty)', () => {
    expect(edges.length).toBeGreaterThan(100);
    expect(edges.some((e) => e.from === 'lib/client.ts' && e.to === 'lib/auth/self-hosted.ts')).toBe(true);
  });

  it('gives every module a layer', () => {
    expect(libFiles().filter((file) => LAYERS.every((layer) => !layer.modules.test(file)))).toEqual([]);
  });

  it('has no import that climbs to a higher layer', () => {
    const climbs = edges
      .filter((e) => layerOf(e.to) > layerOf(e.from))
      .map(
        (e) =>
          `${e.from} (${LAYERS[layerOf(e.from)]?.name}) imports ${e.to} (${LAYERS[layerOf(e.to)]?.name})`,
      );
    expect(climbs).toEqual([]);
  });

  it('uses one import style inside lib/: #lib/ paths, not ../ or ./', () => {
    expect(
      edges.filter((e) => !e.specifier.startsWith('#lib/')).map((e) => `${e.from}: ${e.specifier}`),
    ).toEqual([]);
  });

  it('catches a climbing import (the rule can fail)', () => {
    const climbing: Edge = {
      from: 'lib/airflow/client.ts',
      to: 'lib/auth/mwaa.ts',
      specifier: '#lib/auth/mwaa.ts',
    };
    expect(layerOf(climbing.to)).toBeGreaterThan(layerOf(climbing.from));
  });
});
